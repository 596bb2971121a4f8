// A Server-Sent Events reader over fetch: EventSource cannot send the key in a header, and a
// key must never travel in a URL. It resumes after a break with Last-Event-ID, the position
// of the last event it saw, so that no event is missed or seen twice.

import { authHeaders } from "./api.js";

const FIRST_RETRY_MS = 1000;
const LONGEST_RETRY_MS = 30000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// One event block ("id: 17\nevent: report-filed\ndata: {...}") as {id, event, data}; a block
// of comments only (": heartbeat") is null.
export function parseBlock(block) {
  const event = { id: null, event: "message", data: [] };
  for (const line of block.split(/\r?\n/)) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") event.id = value;
    else if (field === "event") event.event = value;
    else if (field === "data") event.data.push(value);
  }
  return event.data.length ? { ...event, data: event.data.join("\n") } : null;
}

// Follow /v1/stream from position `after` until `signal` aborts. `onEvent` gets each event's
// decoded data; `onState` gets "live", "reconnecting" or "needs-key".
export async function follow({ after, onEvent, onState, signal }) {
  let last = after;
  let retry = FIRST_RETRY_MS;
  while (!signal.aborted) {
    try {
      const headers = { Accept: "text/event-stream", ...authHeaders() };
      if (last !== null && last !== undefined) headers["Last-Event-ID"] = String(last);
      const response = await fetch("/v1/stream", { headers, signal, cache: "no-store" });
      if (response.status === 401 || response.status === 403) {
        onState("needs-key");
        return;
      }
      if (!response.ok || !response.body) throw new Error(`stream: ${response.status}`);
      onState("live");
      retry = FIRST_RETRY_MS;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        for (let end = buffer.search(/\r?\n\r?\n/); end >= 0; end = buffer.search(/\r?\n\r?\n/)) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
          const event = parseBlock(block);
          if (event === null) continue;
          if (event.id !== null) last = Number(event.id);
          onEvent(JSON.parse(event.data));
        }
      }
    } catch (error) {
      if (signal.aborted) return;
    }
    onState("reconnecting");
    await sleep(retry);
    retry = Math.min(retry * 2, LONGEST_RETRY_MS);
  }
}
