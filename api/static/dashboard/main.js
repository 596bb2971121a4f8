// The dashboard's wiring: the key, the time controls (every panel answers the same question),
// the panels, and the live stream that redraws them when the log moves.

import { ApiError, getJson, lowestPosition, storedKey, storeKey } from "./api.js";
import { closeDrawer, setDrawerQuestion } from "./drawer.js";
import { fill } from "./dom.js";
import { day } from "./format.js";
import { drawFigures } from "./figures.js";
import { follow } from "./stream.js";
import { drawStrikes } from "./strikes.js";
import { drawTerritory } from "./territory.js";
import { drawTimeline } from "./timeline.js";

const FIRST_DAY = "2022-02-24";
const REDRAW_AFTER_MS = 150;
const $ = (id) => document.getElementById(id);

const question = { asOf: "", knownAt: "" };
let position = null;
let stream = null;
let redrawTimer = null;

const PANELS = [
  ["territory", drawTerritory],
  ["figures", drawFigures],
  ["strikes", drawStrikes],
  ["timeline", drawTimeline],
];

function params(minPosition) {
  return {
    as_of: question.asOf,
    // datetime-local has no zone: the page says UTC, and sends it so.
    known_at: question.knownAt ? `${question.knownAt.length === 16 ? `${question.knownAt}:00` : question.knownAt}Z` : "",
    min_position: question.knownAt ? null : minPosition,
  };
}

function describeQuestion() {
  const happened = question.asOf ? `what had happened by ${day(question.asOf)}` : "everything that has happened";
  const known = question.knownAt
    ? `as the log stood at ${question.knownAt.replace("T", " ")} UTC (a past that does not change: live updates are paused)`
    : "as the log stands now, updated live";
  fill($("question"), `Showing ${happened}, ${known}.`);
}

function showError(error) {
  const box = $("error");
  if (!error) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const needsKey = error instanceof ApiError && (error.status === 401 || error.status === 403);
  fill(box, needsKey
    ? "This service needs a reader key: type it above (it is kept for this tab only)."
    : `The service answered: ${error.message}`);
}

// One redraw at a time: a redraw asked for while one runs is made once, after it, so that a
// burst of events or clicks costs one round of questions (a question about the past counts
// as ten against the key's rate limit).
let drawing = null;
let drawAgain = null;

async function drawAll(minPosition = null) {
  if (drawing) {
    drawAgain = { minPosition: Math.max(minPosition ?? 0, drawAgain?.minPosition ?? 0) || null };
    return drawing;
  }
  drawing = drawRound(minPosition);
  try {
    return await drawing;
  } finally {
    drawing = null;
    if (drawAgain) {
      const again = drawAgain;
      drawAgain = null;
      drawAll(again.minPosition);
    }
  }
}

async function drawRound(minPosition) {
  const asked = params(minPosition);
  setDrawerQuestion({ as_of: asked.as_of, known_at: asked.known_at });
  const results = await Promise.allSettled(PANELS.map(async ([id, draw]) => {
    const section = $(id);
    section.setAttribute("aria-busy", "true");
    try {
      return await draw(section.querySelector(".panel-body"), asked);
    } finally {
      section.removeAttribute("aria-busy");
    }
  }));
  const failed = results.find((r) => r.status === "rejected");
  showError(failed ? failed.reason : null);
  // The stream is followed from the lowest position any panel showed: a view that lagged
  // the others gets its missing events as stream events, and each brings a redraw that waits
  // (min_position) until every view has them.
  const drawn = lowestPosition(...results.map((r) => (r.status === "fulfilled" ? { position: r.value } : null)));
  if (drawn !== null && !question.knownAt) position = Math.max(position ?? 0, drawn);
  document.body.dataset.position = String(position ?? "");
  return !failed;
}

function redrawSoon(at) {
  clearTimeout(redrawTimer);
  redrawTimer = setTimeout(() => drawAll(at), REDRAW_AFTER_MS);
}

function setLive(state) {
  const text = {
    live: `Live: following the log${position !== null ? ` (position ${position})` : ""}.`,
    reconnecting: "Live updates interrupted; reconnecting…",
    "needs-key": "Live updates need a reader key.",
    off: "Live updates off.",
  }[state];
  fill($("live"), text);
  $("live").dataset.state = state;
}

async function startStream() {
  if (stream) stream.abort();
  stream = new AbortController();
  const { signal } = stream;
  if (position === null) {
    try {
      position = (await getJson("/health")).position;
    } catch {
      position = null;
    }
  }
  follow({
    after: position,
    signal,
    onState: setLive,
    onEvent: (event) => {
      position = Math.max(position ?? 0, event.position);
      setLive("live");
      if (!question.knownAt) redrawSoon(event.position);
    },
  });
}

function setUpTimeControls() {
  const asOf = $("as-of");
  const slider = $("as-of-slider");
  const today = new Date().toISOString().slice(0, 10);
  const dayNumber = (iso) => Math.round((Date.parse(iso) - Date.parse(FIRST_DAY)) / 86400000);
  const dateOf = (n) => new Date(Date.parse(FIRST_DAY) + n * 86400000).toISOString().slice(0, 10);
  asOf.min = FIRST_DAY;
  asOf.max = today;
  slider.min = "0";
  slider.max = String(dayNumber(today));
  slider.value = slider.max;
  const apply = () => {
    describeQuestion();
    drawAll(position);
  };
  asOf.addEventListener("change", () => {
    question.asOf = asOf.value;
    slider.value = asOf.value ? String(dayNumber(asOf.value)) : slider.max;
    apply();
  });
  slider.addEventListener("input", () => {
    asOf.value = dateOf(Number(slider.value));
    fill($("slider-date"), day(asOf.value));
  });
  slider.addEventListener("change", () => {
    question.asOf = slider.value === slider.max ? "" : dateOf(Number(slider.value));
    asOf.value = question.asOf;
    apply();
  });
  $("known-at").addEventListener("change", (event) => {
    question.knownAt = event.target.value;
    apply();
  });
  $("now").addEventListener("click", () => {
    question.asOf = "";
    question.knownAt = "";
    asOf.value = "";
    $("known-at").value = "";
    slider.value = slider.max;
    fill($("slider-date"), "");
    apply();
  });
}

function setUpKey() {
  const input = $("key");
  input.value = storedKey();
  $("key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    storeKey(input.value.trim());
    if (await drawAll(position)) startStream();
  });
}

function setUpTimelineFilters() {
  $("timeline-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    drawTimeline($("timeline").querySelector(".panel-body"), params(position)).catch(showError);
  });
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeDrawer();
});
$("drawer-close").addEventListener("click", closeDrawer);
setUpKey();
setUpTimeControls();
setUpTimelineFilters();
describeQuestion();
// Without a key, one probe says whether this service lets anyone read, before eight
// panels each ask and are each refused.
const readable = storedKey() !== "" || (await getJson("/v1/holdings").then(() => true, (error) => {
  showError(error);
  return false;
}));
if (readable && (await drawAll())) startStream();
else setLive("off");
