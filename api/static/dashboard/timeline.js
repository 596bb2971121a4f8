// The timeline: every report in order of occurrence, with the API's filters and its cursor
// paging ("More" follows next_cursor).

import { getJson } from "./api.js";
import { fill, h } from "./dom.js";
import { reportButton } from "./drawer.js";
import { occurrence, words } from "./format.js";

const PAGE = 50;
let next = null;
let asked = {};

function filters() {
  const form = document.getElementById("timeline-filters");
  const wanted = {};
  for (const [name, value] of new FormData(form).entries()) {
    if (value !== "") wanted[name] = value;
  }
  return wanted;
}

function item(entry) {
  return h("li", { class: entry.retracted ? "retracted" : null },
    h("span", { class: "when" }, occurrence(entry.occurred)),
    " ",
    reportButton(entry.summary, entry.report_id),
    h("span", { class: "meta" },
      ` ${words(entry.kind)} · per ${entry.outlet ? `${entry.source} via ${entry.outlet}` : entry.source}`,
      ` · ${entry.verification}${entry.retracted ? " · retracted" : ""}`));
}

function more(list, body) {
  const button = h("button", { type: "button", class: "more" }, "More");
  button.addEventListener("click", async () => {
    button.disabled = true;
    const page = await getJson("/v1/timeline", { ...asked, cursor: next });
    list.append(...page.items.map(item));
    next = page.next_cursor;
    button.remove();
    if (next) body.append(more(list, body));
  });
  return button;
}

export async function drawTimeline(body, params) {
  asked = { ...params, ...filters(), limit: PAGE };
  const page = await getJson("/v1/timeline", asked);
  next = page.next_cursor;
  const list = h("ol", { class: "timeline" }, page.items.map(item));
  fill(body, page.items.length ? list : h("p", { class: "empty" }, "No report matches."));
  if (next) body.append(more(list, body));
  return page.position;
}
