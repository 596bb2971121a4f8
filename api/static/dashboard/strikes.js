// Strikes, newest first (`/v1/strikes/by-date`), on a map and in a list, with what each side
// said: the claimant, and who corroborated, disputed or denied it.

import { getJson, lowestPosition } from "./api.js";
import { fill, h } from "./dom.js";
import { figureButton } from "./drawer.js";
import { attribution, occurrence, quantity } from "./format.js";
import { libraries } from "./libraries.js";
import { drawMap, loadBorders, mapElement } from "./strikes_map.js";

const LISTED = 50;
const MAPPED = 1000;

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
  const [newest, mapped] = await Promise.all([
    getJson("/v1/strikes/by-date", { ...params, order: "newest", limit: LISTED }),
    getJson("/v1/strikes.geojson", { ...params, limit: MAPPED }),
    loadBorders(),
    libraries(),
  ]);
  const map = mapElement();
  const more = newest.next_cursor ? h("p", { class: "more" }, `The ${LISTED} latest are listed.`) : null;
  fill(body, map, newest.rows.length
    ? h("ol", { class: "strikes", "aria-label": "Strikes, newest first" }, newest.rows.map(strike))
    : h("p", { class: "empty" }, "No strikes are known for this question."), more);
  await drawMap(map, mapped.features);
  return lowestPosition(newest, mapped);
}
