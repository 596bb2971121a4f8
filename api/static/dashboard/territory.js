// Territory held per region and actor: the current and the peak figure, each with who said
// it, and the holding's series over time (current claims joined by a line, peaks as points).

import { getAllRows, getJson } from "./api.js";
import { fill, h } from "./dom.js";
import { figureButton, reportButton } from "./drawer.js";
import { attribution, caveat, day, number, occurrence, quantity, unit } from "./format.js";

const CURRENT_COLOUR = "#1d4ed8";
const PEAK_COLOUR = "#9a3412";
const charts = new Set();

function claimed(label, className, claim, rowKey, field) {
  if (!claim) {
    return h("div", { class: `figure-line ${className}` },
      h("dt", {}, label), h("dd", { class: "unknown" }, "not known for this question"));
  }
  return h("div", { class: `figure-line ${className}` },
    h("dt", {}, label),
    h("dd", {},
      figureButton(quantity(claim.area), {
        view: "holdings", rowKey, field, reportId: claim.source.report_id,
      }),
      h("span", { class: "when" }, ` ${occurrence(claim.occurred)}`),
      h("p", { class: "source" },
        `per ${attribution(claim.attribution)} · ${claim.verification}`,
        claim.caveats.length ? ` · ${claim.caveats.map(caveat).join("; ")}` : "")));
}

function holding(entry, points) {
  const row = entry.row;
  const lost = [
    row.share_lost_from_peak ? `${quantity(row.share_lost_from_peak)} lost from the peak, as claimed` : null,
    row.computed_share_lost_percent !== null && row.computed_share_lost_percent !== undefined
      ? `${number(row.computed_share_lost_percent)}% computed from peak and current` : null,
  ].filter(Boolean);
  return h("article", { class: "holding", dataset: { key: entry.key } },
    h("h3", {}, `${row.region} (${row.country}) — held by ${row.actor}`),
    h("dl", { class: "figures" },
      claimed("Current", "current", row.current, entry.key, "current"),
      claimed(row.peak_basis === "claimed" ? "Peak (claimed)" : "Peak (highest current claim)",
        "peak", row.peak, entry.key, "peak")),
    lost.length ? h("p", { class: "lost" }, lost.join("; ")) : null,
    points.length ? chartOf(points, entry.key) : null,
    points.length ? h("ul", { class: "points", "aria-label": `Every claim about ${row.region}` },
      points.map((p) => h("li", { class: p.extent },
        reportButton(`${day(p.date)} · ${p.extent} · ${quantity(p.area)} · ${p.verification}`, p.report_id)))) : null);
}

function chartOf(points, key) {
  const container = h("div", { class: "chart", role: "img",
    "aria-label": `Area held over time, ${key}: current claims as a line, peaks as points` });
  const dates = [...new Set(points.map((p) => Date.parse(p.date) / 1000))].sort((a, b) => a - b);
  const margin = Math.max((dates[dates.length - 1] - dates[0]) * 0.05, 14 * 86400);
  const valueAt = (extent) => dates.map((t) => {
    const found = points.find((p) => p.extent === extent && Date.parse(p.date) / 1000 === t);
    return found ? (found.area.value ?? found.area.low ?? found.area.high) : null;
  });
  const options = {
    width: 400,
    height: 220,
    legend: { live: false },
    scales: {
      // Room around the first and last claims (at least a fortnight), so that their points
      // are not cut in half and a single claim does not stand on an axis of its own.
      x: { time: true, range: () => [dates[0] - margin, dates[dates.length - 1] + margin] },
      y: { range: (u, min, max) => [0, max * 1.15 || 1] },
    },
    axes: [{}, { label: unit(points[0].area.unit), size: 60 }],
    series: [
      {},
      { label: "current", stroke: CURRENT_COLOUR, width: 2, spanGaps: true, points: { size: 9, fill: CURRENT_COLOUR } },
      { label: "peak", stroke: PEAK_COLOUR, paths: () => null, points: { show: true, size: 11, fill: PEAK_COLOUR } },
    ],
  };
  // uPlot needs a width: draw once the card is in the page, and again when it resizes.
  requestAnimationFrame(() => {
    if (!window.uPlot || !container.isConnected) return;
    const plot = new window.uPlot({ ...options, width: container.clientWidth || 400 },
      [dates, valueAt("current"), valueAt("peak")], container);
    charts.add(plot);
    new ResizeObserver(() => plot.setSize({ width: container.clientWidth, height: 220 }))
      .observe(container);
  });
  return container;
}

export async function drawTerritory(body, params) {
  const [holdings, series] = await Promise.all([
    getJson("/v1/holdings", params),
    getAllRows("/v1/holdings-series", params),
  ]);
  for (const chart of charts) chart.destroy();
  charts.clear();
  const pointsOf = (key) => series.rows
    .filter((r) => r.key.startsWith(`${key}/`))
    .flatMap((r) => r.row.points)
    .sort((a, b) => a.date.localeCompare(b.date));
  fill(body, holdings.rows.length
    ? holdings.rows.map((entry) => holding(entry, pointsOf(entry.key)))
    : h("p", { class: "empty" }, "No holdings are known for this question."));
  return holdings.position;
}
