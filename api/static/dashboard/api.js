// The dashboard's only way to the service: the public REST API, with the reader key in a
// header. The key is kept for this tab only (sessionStorage), never in a URL.

const KEY_STORAGE = "conflict-timeline.reader-key";
const MAX_RETRY_SECONDS = 5;

export function storedKey() {
  return sessionStorage.getItem(KEY_STORAGE) ?? "";
}

export function storeKey(key) {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

export function authHeaders() {
  const key = storedKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? `the service answered ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function urlOf(path, params = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === "" || value === false) continue;
    url.searchParams.set(name, String(value));
  }
  return url;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// GET a JSON document. A 429 (a burst of questions about the past costs more) is waited out
// once, as its Retry-After says; any other error is an ApiError carrying the problem details.
export async function getJson(path, params = {}) {
  for (let attempt = 0; ; attempt += 1) {
    const response = await fetch(urlOf(path, params), {
      headers: { Accept: "application/json", ...authHeaders() },
    });
    if (response.status === 429 && attempt === 0) {
      const wait = Math.min(Number(response.headers.get("Retry-After")) || 1, MAX_RETRY_SECONDS);
      await sleep(wait * 1000);
      continue;
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }
}

// The position every one of a panel's answers includes: the lowest of theirs. Each view is
// built on its own and one may lag another (the holdings before their series); the page
// follows the stream from there, so the events a lagging view had not yet folded bring the
// redraw that shows them.
export function lowestPosition(...answers) {
  const positions = answers.map((answer) => answer?.position).filter(Number.isFinite);
  return positions.length ? Math.min(...positions) : null;
}

// Every row of a view that answers a page at a time (strikes, the histories): the pages
// followed by `next_cursor` until it is null, as one answer.
export async function getAllRows(path, params = {}) {
  const first = await getJson(path, { ...params, limit: PAGE_ROWS });
  const rows = [...first.rows];
  for (let cursor = first.next_cursor; cursor; ) {
    const page = await getJson(path, { ...params, limit: PAGE_ROWS, cursor });
    rows.push(...page.rows);
    cursor = page.next_cursor;
  }
  return { ...first, rows, next_cursor: null };
}

// Every point of a history (`/v1/{history}/points`), its pages followed the same way.
export async function getAllPoints(path, params = {}) {
  const first = await getJson(path, { ...params, limit: PAGE_ROWS });
  const points = [...first.points];
  for (let cursor = first.next_cursor; cursor; ) {
    const page = await getJson(path, { ...params, limit: PAGE_ROWS, cursor });
    points.push(...page.points);
    cursor = page.next_cursor;
  }
  return { ...first, points, next_cursor: null };
}

const PAGE_ROWS = 1000;
