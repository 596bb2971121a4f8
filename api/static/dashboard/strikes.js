// Strikes, newest first, with what each side said: the claimant, and who corroborated,
// disputed or denied it.

import { getJson } from "./api.js";
import { fill, h } from "./dom.js";
import { figureButton } from "./drawer.js";
import { attribution, occurrence, quantity } from "./format.js";

const started = (o) => o?.on ?? o?.at ?? (o?.start ? started(o.start) : "") ?? "";

function effects(e) {
  if (!e) return null;
  const said = [];
  if (e.killed) said.push(`${quantity(e.killed)} killed`);
  if (e.injured) said.push(`${quantity(e.injured)} injured`);
  if (e.operations_affected === false) said.push("operations not affected");
  if (e.operations_affected === true) said.push("operations affected");
  if (e.fires) said.push(e.fires);
  if (e.damage?.length) said.push(`damage: ${e.damage.join(", ")}`);
  return said.length ? h("p", {}, said.join("; ")) : null;
}

function strike(entry) {
  const row = entry.row;
  const where = [row.place.name, row.place.region, row.place.country].filter(Boolean).join(", ");
  const at = row.place.latitude !== null && row.place.latitude !== undefined
    ? ` (${row.place.latitude}, ${row.place.longitude})` : "";
  return h("li", { class: "strike" },
    h("p", {}, h("strong", {}, occurrence(row.occurred)), " — ",
      figureButton(`${row.attacker} struck ${row.target}`, {
        view: "strikes", rowKey: entry.key, field: "strike", reportId: row.report_id,
      }),
      ` in ${where}${at}${row.weapon ? ` with ${row.weapon}` : ""}`),
    effects(row.effects),
    h("p", { class: "source" }, `per ${attribution(row.claimant)} (${row.claimant.side}) · ${row.verification}`),
    row.corroborated_by.map((a) => h("p", { class: "source" }, `corroborated by ${attribution(a)} (${a.side})`)),
    row.disputed_by.map((a) => h("p", { class: "source" }, `disputed by ${attribution(a)} (${a.side})`)),
    row.denied_by.map((a) => h("p", { class: "source" }, `denied by ${attribution(a)} (${a.side})`)));
}

export async function drawStrikes(body, params) {
  // One page (the API's first 200 by key): strikes ordered by date and limited are to come.
  const view = await getJson("/v1/strikes", params);
  const newestFirst = [...view.rows].sort((a, b) => started(b.row.occurred).localeCompare(started(a.row.occurred)));
  fill(body, newestFirst.length
    ? h("ul", { class: "strikes" }, newestFirst.map(strike))
    : h("p", { class: "empty" }, "No strikes are known for this question."));
}
