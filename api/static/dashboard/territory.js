// Territory held per region and actor: the current and the peak figure, each with who said
// it, and the holding's series over time from its flat points (`/v1/holdings-series/points`):
// current claims joined by a line, peaks as points, a source's low-high range as a band.
// Each point of the chart opens its report in the drawer, as the list under it does.

import { getAllPoints, getJson, lowestPosition } from "./api.js";
import { fill, h } from "./dom.js";
import { figureButton, openReport, reportButton } from "./drawer.js";
import { attribution, caveat, day, number, occurrence, quantity, unit } from "./format.js";
import { libraries } from "./libraries.js";

const CURRENT_COLOUR = "#1d4ed8";
const PEAK_COLOUR = "#9a3412";
const BAND = { current: "rgba(29, 78, 216, 0.15)", peak: "rgba(154, 52, 18, 0.15)" };
const LISTED_CLAIMS = 10; // per holding; the earlier ones are listed on request
const charts = new Set();
const unplotted = []; // charts made, waiting for their cards to be in the page

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

// A flat point's figure, as the API's quantities read.
const figureOf = (p) => quantity({ unit: p.unit, value: p.value, low: p.low, high: p.high, qualifier: p.qualifier });
const plotted = (p) => p.value ?? p.low ?? p.high;
const seconds = (p) => Date.parse(p.date) / 1000;

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
    points.length ? h("div", { class: "chart-box" }, chartOf(points, entry.key),
      h("p", { class: "source" }, "Click a point for its report; a shaded band is a source's range.")) : null,
    points.length ? claimsList(points, row.region) : null);
}

const claimItem = (p) => h("li", { class: p.measure },
  reportButton(`${day(p.date)} · ${p.measure} · ${figureOf(p)} · per ${attribution(p)} · ${p.verification}`,
    p.report_id));

// The holding's claims as a list, the keyboard's way to each point of the chart: the latest
// few, and the earlier ones behind a disclosure, listed when it is opened. A region of a long
// war has hundreds; listed in full, twenty holdings made a page of thousands of lines, laid
// out before any chart could be drawn.
function claimsList(points, region) {
  if (points.length <= LISTED_CLAIMS) {
    return h("ul", { class: "points", "aria-label": `Every claim about ${region}` }, points.map(claimItem));
  }
  const earlier = points.slice(0, -LISTED_CLAIMS);
  const disclosure = h("details", { class: "earlier-claims" },
    h("summary", {}, `${number(earlier.length)} earlier claim${earlier.length === 1 ? "" : "s"}`));
  disclosure.addEventListener("toggle", () => {
    if (!disclosure.open || disclosure.querySelector(".points")) return;
    disclosure.append(h("ul", { class: "points", "aria-label": `Earlier claims about ${region}` },
      earlier.map(claimItem)));
  });
  return h("div", { class: "claims" }, disclosure,
    h("ul", { class: "points", "aria-label": `The latest claims about ${region}` },
      points.slice(-LISTED_CLAIMS).map(claimItem)));
}

function chartOf(points, key) {
  const container = h("div", { class: "chart", role: "img",
    "aria-label": `Area held over time, ${key}: current claims as a line, peaks as points, ranges as bands; `
      + "click a point for its report" });
  const dates = [...new Set(points.map(seconds))].sort((a, b) => a - b);
  const margin = Math.max((dates[dates.length - 1] - dates[0]) * 0.05, 14 * 86400);
  // The first claim of each measure on each day, found by day rather than by a walk over
  // every point for every day.
  const firstOn = { current: new Map(), peak: new Map() };
  for (const p of points) {
    const byDay = firstOn[p.measure];
    const t = seconds(p);
    if (byDay && !byDay.has(t)) byDay.set(t, p);
  }
  const at = (measure, pick) => dates.map((t) => {
    const found = firstOn[measure].get(t);
    return found ? pick(found) : null;
  });
  const bound = (measure, name) => ({
    label: `${measure} ${name}`, stroke: BAND[measure], width: 1, spanGaps: true, points: { show: false },
  });
  const options = {
    width: 400,
    height: 220,
    legend: { live: false },
    cursor: { points: { size: 14 } },
    scales: {
      // Room around the first and last claims (at least a fortnight), so that their points
      // are not cut in half and a single claim does not stand on an axis of its own.
      x: { time: true, range: () => [dates[0] - margin, dates[dates.length - 1] + margin] },
      y: { range: (u, min, max) => [0, max * 1.15 || 1] },
    },
    axes: [{}, { label: unit(points[0].unit), size: 60 }],
    series: [
      {},
      { label: "current", stroke: CURRENT_COLOUR, width: 2, spanGaps: true, points: { size: 9, fill: CURRENT_COLOUR } },
      { label: "peak", stroke: PEAK_COLOUR, paths: () => null, points: { show: true, size: 11, fill: PEAK_COLOUR } },
      bound("current", "low"), bound("current", "high"), bound("peak", "low"), bound("peak", "high"),
    ],
    // A source's range ("between 700 and 900 km²"): the band between its high and its low.
    bands: [{ series: [4, 3], fill: BAND.current }, { series: [6, 5], fill: BAND.peak }],
  };
  const data = [
    dates, at("current", plotted), at("peak", plotted),
    at("current", (p) => p.low), at("current", (p) => p.high),
    at("peak", (p) => p.low), at("peak", (p) => p.high),
  ];
  // uPlot needs a width: drawn once the card is in the page (drawCharts), and again when it
  // resizes.
  unplotted.push({ container, options, data, points, dates });
  return container;
}

// Every chart of the panel, once its cards are in the page: their widths read together first,
// so the page is laid out once, not once per chart (each uPlot changes the page, and reading
// the next width after it would lay the whole page out again).
function drawCharts() {
  const waiting = unplotted.splice(0).filter(({ container }) => container.isConnected);
  if (!window.uPlot) return;
  const widths = waiting.map(({ container }) => container.clientWidth || 400);
  waiting.forEach((chart, i) => drawChart(chart, widths[i]));
}

function drawChart({ container, options, data, points, dates }, width) {
  const plot = new window.uPlot({ ...options, width }, data, container);
  charts.add(plot);
  container.plot = plot; // for the browser tests, which click a point by its value
  // The low and high series (the last four) only bound the bands: not in the legend.
  const legend = [...plot.root.querySelectorAll(".u-legend .u-series")];
  for (const row of legend.slice(-4)) row.style.display = "none";
  plot.over.style.cursor = "pointer";
  plot.over.addEventListener("click", () => {
    const index = plot.cursor.idx;
    if (index === null || index === undefined) return;
    const asked = plot.posToVal(plot.cursor.top, "y");
    const there = points.filter((p) => seconds(p) === dates[index]);
    const nearest = there.sort((a, b) => Math.abs(plotted(a) - asked) - Math.abs(plotted(b) - asked))[0];
    if (nearest) openReport(nearest.report_id);
  });
  // A ResizeObserver reports each element once when it starts observing, at the width the
  // chart was just drawn at: drawn again only when the width has changed.
  new ResizeObserver(() => {
    if (container.clientWidth !== plot.width) plot.setSize({ width: container.clientWidth, height: 220 });
  }).observe(container);
}

export async function drawTerritory(body, params) {
  const [holdings, series] = await Promise.all([
    getJson("/v1/holdings", params),
    getAllPoints("/v1/holdings-series/points", params),
    libraries(),
  ]);
  for (const chart of charts) chart.destroy();
  charts.clear();
  const pointsOf = (key) => series.points
    .filter((p) => p.series === key)
    .sort((a, b) => a.date.localeCompare(b.date));
  fill(body, holdings.rows.length
    ? holdings.rows.map((entry) => holding(entry, pointsOf(entry.key)))
    : h("p", { class: "empty" }, "No holdings are known for this question."));
  drawCharts();
  return lowestPosition(holdings, series);
}
