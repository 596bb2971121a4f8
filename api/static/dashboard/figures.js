// The latest figure of each view other than holdings: damage tallies (running totals per
// source, never added up), forces, front movement and occupation, each with its source,
// relay, verification and caveats.

import { getJson, lowestPosition } from "./api.js";
import { fill, h } from "./dom.js";
import { figureButton } from "./drawer.js";
import { attribution, caveat, day, occurrence, quantity } from "./format.js";

function sourced(claim) {
  return h("p", { class: "source" },
    `per ${attribution(claim.attribution)} · ${claim.verification}`,
    claim.caveats?.length ? ` · ${claim.caveats.map(caveat).join("; ")}` : "");
}

function card(title, ...lines) {
  return h("article", { class: "card" }, h("h4", {}, title), ...lines);
}

function damage(entry) {
  const row = entry.row;
  return card(`${row.category} (${row.country}), by ${row.responsible}`,
    row.totals_by_source.map((total) => h("div", { class: "figure-line" },
      figureButton(quantity(total.count), {
        view: "damage", rowKey: entry.key, field: "totals_by_source", reportId: total.source.report_id,
      }),
      ` since ${day(total.since)}, as of ${day(total.as_of)} — a running total`,
      sourced(total))),
    row.incidents_counted ? h("p", {}, `${quantity(row.incident_sum)} in ${row.incidents_counted} incidents`) : null);
}

function forces(entry) {
  const row = entry.row;
  const parts = [];
  for (const [label, field, claim, amount] of [
    ["deployed", "deployment", row.deployment, row.deployment?.troops],
    ["strength", "strength", row.strength, row.strength?.troops],
    ["target", "target", row.target, row.target?.troops],
  ]) {
    if (!claim) continue;
    parts.push(h("div", { class: "figure-line" }, `${label}: `,
      figureButton(quantity(amount), { view: "forces", rowKey: entry.key, field, reportId: claim.source.report_id }),
      ` ${occurrence(claim.occurred)}`,
      claim.in_support_of ? ` in support of ${claim.in_support_of}` : "",
      claim.status ? ` (${claim.status})` : "",
      sourced(claim)));
  }
  return card(`${row.actor} in ${row.theatre}`, parts);
}

function front(entry) {
  const row = entry.row;
  return card(`${row.actor} towards ${row.direction} (${row.region})`,
    h("div", { class: "figure-line" },
      figureButton(quantity(row.rate), { view: "front", rowKey: entry.key, field: "rate", reportId: row.source.report_id }),
      ` ${occurrence(row.occurred)}`,
      sourced(row)));
}

function occupation(item) {
  return card(`Occupation (${item.country})`,
    h("div", { class: "figure-line" }, item.summary, ` ${occurrence(item.occurred)}`,
      h("p", { class: "source" },
        `per ${item.outlet ? `${item.source} via ${item.outlet}` : item.source} · ${item.verification}`)));
}

export async function drawFigures(body, params) {
  const [damageView, forcesView, frontView, occupations] = await Promise.all([
    getJson("/v1/damage", params),
    getJson("/v1/forces", params),
    getJson("/v1/front", params),
    getJson("/v1/timeline", { ...params, kind: "occupation_share", limit: 5 }),
  ]);
  const group = (title, cards) => h("div", { class: "group" }, h("h3", { class: "group-title" }, title),
    cards.length ? cards : h("p", { class: "empty" }, "None for this question."));
  fill(body,
    group("Damage tallies", damageView.rows.map(damage)),
    group("Forces", forcesView.rows.map(forces)),
    group("Front movement", frontView.rows.map(front)),
    group("Occupation share", occupations.items.slice(-1).map(occupation)));
  return lowestPosition(damageView, forcesView, frontView, occupations);
}
