// The report drawer: a figure's reports (the API's `explain`), and one report as it stands
// with its life-cycle history. It opens beside the panels and closes with Escape.

import { getJson } from "./api.js";
import { fill, h } from "./dom.js";
import { attribution, caveat, occurrence, quantity, words } from "./format.js";

const drawer = () => document.getElementById("drawer");
let opener = null;
let currentParams = {};

export function setDrawerQuestion(params) {
  currentParams = params;
}

function show(title) {
  const element = drawer();
  opener = document.activeElement;
  fill(element.querySelector("#drawer-title"), title);
  fill(element.querySelector(".drawer-body"), h("p", { class: "loading" }, "Loading…"));
  element.hidden = false;
  element.focus();
  return element.querySelector(".drawer-body");
}

export function closeDrawer() {
  const element = drawer();
  if (element.hidden) return;
  element.hidden = true;
  if (opener && document.contains(opener)) opener.focus();
}

// A button that opens the drawer on one figure of a view's row.
export function figureButton(text, figure) {
  return h("button", {
    type: "button",
    class: "figure",
    dataset: { view: figure.view, key: figure.rowKey, field: figure.field ?? "" },
    onclick: () => openFigure({ ...figure, text }),
  }, text);
}

export function reportButton(text, reportId) {
  return h("button", { type: "button", class: "link", onclick: () => openReport(reportId) }, text);
}

function failure(body, error) {
  fill(body, h("p", { class: "error", role: "alert" }, `Could not load this: ${error.message}`));
}

export async function openFigure(figure) {
  const body = show(`${figure.text} — where it comes from`);
  try {
    const params = { ...currentParams, explain: true, key: figure.rowKey };
    const [explanation, report] = await Promise.all([
      getJson(`/v1/${figure.view}`, params),
      figure.reportId ? getJson(`/v1/reports/${figure.reportId}`) : null,
    ]);
    fill(body, explanationOf(explanation, figure), report ? reportSection(report) : null);
  } catch (error) {
    failure(body, error);
  }
}

export async function openReport(reportId) {
  const body = show("Report");
  try {
    fill(body, reportSection(await getJson(`/v1/reports/${reportId}`)));
  } catch (error) {
    failure(body, error);
  }
}

function explanationOf(explanation, figure) {
  const rows = explanation.rows.filter((row) => row.key === figure.rowKey);
  return h("section", { class: "explain", "aria-label": "The reports behind this figure" },
    h("h3", {}, "The reports behind it"),
    rows.length === 0 ? h("p", {}, "No report stands behind this row for this question.") : null,
    rows.map((row) => [
      h("ul", { class: "explain-figures" }, row.figures.map((f) =>
        h("li", { class: f.field === figure.field ? "asked" : null },
          h("strong", {}, words(f.field)), `: ${f.text}`))),
      h("ol", { class: "explain-reports" }, row.reports.map((r) => explainedReport(r, row.reports))),
      row.reports_total > row.reports.length
        ? h("p", {}, `${row.reports.length} of ${row.reports_total} reports shown.`) : null,
    ]));
}

function explainedReport(report, all) {
  const supersedes = all.filter((other) => other.superseded_by === report.report_id);
  const supersededBy = all.find((other) => other.report_id === report.superseded_by);
  return h("li", { class: `explained role-${report.role}` },
    h("p", {}, h("span", { class: "role" }, words(report.role)), " ", report.summary),
    h("p", { class: "source" },
      `per ${attribution(report)} (${words(report.side)}), ${report.verification}; filed at position ${report.filed_at_position}`),
    supersedes.map((old) => h("p", { class: "supersedes" }, "supersedes ",
      reportButton(`report ${old.report_id.slice(0, 8)}`, old.report_id), `: ${old.summary}`)),
    supersededBy ? h("p", { class: "superseded" }, "superseded by ",
      reportButton(`report ${supersededBy.report_id.slice(0, 8)}`, supersededBy.report_id),
      `: ${supersededBy.summary}`) : null,
    report.changes.length ? h("ul", { class: "changes" }, report.changes.map((c) =>
      h("li", {}, `later, at position ${c.position}: ${c.summary}`))) : null,
    reportButton("Open the report and its history", report.report_id));
}

function claimFacts(claim) {
  return Object.entries(claim)
    .filter(([name]) => name !== "kind")
    .map(([name, value]) => h("li", {}, h("strong", {}, words(name)), ": ", describe(value)));
}

function describe(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value !== "object") return String(value);
  if (Array.isArray(value)) return value.map(describe).join("; ");
  if ("unit" in value) return quantity(value);
  if ("precision" in value) return occurrence(value);
  return Object.entries(value).map(([k, v]) => `${words(k)} ${describe(v)}`).join(", ");
}

function reportSection(answer) {
  const report = answer.report;
  return h("section", { class: "report", "aria-label": "The report as it stands" },
    h("h3", {}, `The report as it stands (version ${report.version})`),
    h("p", {}, h("strong", {}, words(report.claim.kind)), ` — per ${attribution(report.attribution)} (${words(report.attribution.side)}), ${report.verification ?? ""}`),
    h("ul", {}, claimFacts(report.claim)),
    h("p", {}, `Happened: ${occurrence(report.occurred)}; reported: ${occurrence(report.reported)}`),
    report.caveats?.length ? h("p", {}, `Caveats: ${report.caveats.map(caveat).join("; ")}`) : null,
    report.notes ? h("blockquote", {}, report.notes) : null,
    h("h4", {}, "Its history"),
    h("ol", { class: "history" }, answer.history.map((step) =>
      h("li", {}, `${words(step.type)} at position ${step.position}, recorded ${step.recorded_at.slice(0, 19).replace("T", " ")} UTC`,
        step.event.by ? ` (by ${attribution(step.event.by)})` : "",
        step.event.reason ? ` — ${step.event.reason}` : "",
        step.event.note ? ` — ${step.event.note}` : ""))),
    h("p", { class: "id" }, `report ${report.id}`));
}
