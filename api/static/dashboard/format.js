// How the API's values read to a person: quantities with their qualifiers and units, who said
// what and who relayed it, and the times at their precision.

const UNITS = { km2: "km²", percent: "%", "m/day": "m/day" };
const QUALIFIERS = {
  about: "about ",
  at_most: "at most ",
  at_least: "at least ",
  more_than: "more than ",
  less_than: "less than ",
  exactly: "",
};
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
  "September", "October", "November", "December"];

// One formatter for every figure: toLocaleString with options builds a new one per call,
// which a page of some thousands of points pays for in a quarter of a second.
const NUMBER = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 1 });
export const number = (value) => NUMBER.format(value);

export function unit(name) {
  return UNITS[name] ?? name;
}

// {qualifier: "about", value: 1376, unit: "km2"} -> "about 1,376 km²";
// {qualifier: "between", low: 200, high: 300, unit: "m/day"} -> "200–300 m/day".
export function quantity(q) {
  if (!q) return "—";
  const u = q.unit === "percent" ? "%" : ` ${unit(q.unit)}`;
  if (q.low !== undefined && q.low !== null && q.high !== undefined && q.high !== null) {
    return `${q.qualifier === "between" ? "" : QUALIFIERS[q.qualifier] ?? ""}${number(q.low)}–${number(q.high)}${u}`;
  }
  const value = q.value ?? q.low ?? q.high;
  const qualifier = QUALIFIERS[q.qualifier] ?? (q.qualifier ? `${q.qualifier.replaceAll("_", " ")} ` : "");
  return `${qualifier}${number(value)}${u}`;
}

// "Ukrainian General Staff source via Reuters"
export function attribution(a) {
  if (!a) return "";
  return a.outlet ? `${a.source} via ${a.outlet}` : a.source;
}

export function caveat(c) {
  return `${c.party} ${c.stance.replaceAll("_", " ")}`;
}

export function day(iso) {
  if (!iso) return "";
  const [year, month, date] = iso.slice(0, 10).split("-").map(Number);
  return `${date} ${MONTHS[month - 1].slice(0, 3)} ${year}`;
}

// An occurrence at the precision it was given: a day, a month, an interval open at one end.
export function occurrence(o) {
  if (!o) return "";
  switch (o.precision) {
    case "day":
      return day(o.on);
    case "month":
      return `${MONTHS[o.month - 1]} ${o.year}`;
    case "instant":
      return `${day(o.at)} ${o.at.slice(11, 16)} UTC`;
    case "interval":
      if (o.start && o.end) return `${occurrence(o.start)} – ${occurrence(o.end)}`;
      if (o.start) return `since ${occurrence(o.start)}`;
      if (o.end) return `by ${occurrence(o.end)}`;
      return "at an unknown time";
    default:
      return o.on ?? "";
  }
}

export const words = (text) => (text ?? "").replaceAll("_", " ").replaceAll("-", " ");
