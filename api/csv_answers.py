"""Reads as CSV, for the tools newsrooms chart with (Datawrapper, Flourish, a spreadsheet's
import from a URL), which take a URL and a table, not JSON.

One rule for every read that answers a table (each view, each history and its points, the
timeline, sources, regions): `Accept: text/csv`, or `.csv` after the route's path for a tool
that cannot send headers (`/v1/holdings.csv?as_of=2024-09-01` is `/v1/holdings?as_of=...`
with `Accept: text/csv`). The route answers as it always does, with the same parameters,
pages and questions about the past; this layer, outside it, turns the JSON into CSV, so the
JSON stays the bytes `timeline replay` prints and nothing is worked out twice.

The table: one line per item of the answer's one list (`rows`, `items`, `points`, ...), a
column per value, named by its path in the JSON (`row.current.area.value`); a list inside an
item is its JSON in one cell; null is an empty cell. RFC 4180: a header row, CRLF, fields
quoted when they hold a comma, a quote or a line break, UTF-8. The page's `next_cursor` is a
`Link: <...>; rel="next"` header, the log position `X-Timeline-Position` as in JSON.

An `Accept` that allows neither JSON nor CSV, `.csv` with an `Accept` that refuses CSV, or
`.csv` of a read that has no table (an explanation, a report) is a 406 problem naming what
the route answers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from enum import Enum
from functools import cache
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode

import msgspec
import msgspec.inspect as mi

from api.held_answers import Message, held_when
from api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, Problem
from api.schemas import TimelinePage
from projections.read_side.series_points import SeriesPoints
from projections.read_side.shapes import ANSWER_TYPES
from projections.read_side.sources_and_regions import RegionsAnswer, SourcesAnswer

HISTORIES = ("holdings-series", "forces-history", "front-series", "tallies-series")

CSV_MEDIA_TYPE = "text/csv; charset=utf-8; header=present"
JSON_MEDIA_TYPE = "application/json"


_encoder = msgspec.json.Encoder()

App = Callable[[Any, Any, Any], Awaitable[None]]


# --- the table ----------------------------------------------------------------------------

_LISTS = (mi.ListType, mi.VarTupleType, mi.TupleType, mi.SetType, mi.FrozenSetType)
_OPEN = (mi.DictType, mi.AnyType, mi.RawType)  # their columns are the data's


class _Column(NamedTuple):
    path: str
    default: object  # what a value the JSON leaves out stands for (msgspec.NODEFAULT: none)
    is_open: bool = False  # a place holding the data's own columns under `path`


def _columns(kind: mi.Type, path: str, default: object = msgspec.NODEFAULT) -> list[_Column]:
    """A type's columns, so that every page and every question about the past of one route
    has the same header, whatever its rows hold."""
    if isinstance(kind, mi.UnionType):
        members = [member for member in kind.types if not isinstance(member, mi.NoneType)]
        if not any(isinstance(member, (mi.StructType, *_OPEN)) for member in members):
            return [_Column(path, default)]
        merged: dict[str, _Column] = {}
        for member in members:
            for column in _columns(member, path):
                merged.setdefault(column.path, column)
        return list(merged.values())
    if isinstance(kind, mi.StructType):
        columns = (
            [_Column(f"{path}.{kind.tag_field}".lstrip("."), kind.tag)] if kind.tag_field else []
        )
        for field in kind.fields:
            columns += _columns(
                field.type, f"{path}.{field.encode_name}".lstrip("."), field.default
            )
        return columns
    if isinstance(kind, _OPEN):
        return [_Column(path, default, is_open=True)]
    return [_Column(path, default)]


@cache
def _item_columns(answer_type: type) -> tuple[_Column, ...]:
    kind = mi.type_info(answer_type)
    assert isinstance(kind, mi.StructType)
    listed = [field.type for field in kind.fields if isinstance(field.type, _LISTS)]
    assert len(listed) == 1, f"{answer_type.__name__} has no one list of items"
    item = listed[0]
    assert isinstance(item, mi.ListType | mi.VarTupleType)
    return tuple(_columns(item.item_type, ""))


def _cells(value: object, path: str, objects: set[str]) -> Iterator[tuple[str, object]]:
    if isinstance(value, dict):
        objects.add(path)
        for name, inner in value.items():
            yield from _cells(inner, f"{path}.{name}" if path else name, objects)
    else:
        yield path, value


# What a spreadsheet takes for the start of a formula (OWASP's "CSV injection"): a text cell
# beginning with one is written after an apostrophe, which spreadsheets read as "this is text"
# and do not show. Numbers are numbers: -5 stays -5.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None or value is msgspec.NODEFAULT:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, list | tuple | dict):
        return _encoder.encode(value).decode()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    return str(value)


def items_of(answer: object) -> list[Any] | None:
    """The answer's one list of items (the table's lines), or None if it has none."""
    if not isinstance(answer, dict):
        return None
    lists = [value for value in answer.values() if isinstance(value, list)]
    return lists[0] if len(lists) == 1 else None


def table(columns: Sequence[_Column], items: Iterable[object]) -> tuple[list[str], list[list[str]]]:
    """The header and one line per item: a column per value of the item's type, by its path
    in the JSON; a value the JSON leaves out for its default is written as that default."""
    flat = []
    for item in items:
        objects: set[str] = set()
        flat.append((dict(_cells(item, "", objects)), objects))
    header: list[str] = []
    defaults: dict[str, object] = {}
    for column in columns:
        if column.is_open:
            prefix = column.path + "."
            found = dict.fromkeys(p for cells, _ in flat for p in cells if p.startswith(prefix))
            header += found
        else:
            header.append(column.path)
            defaults[column.path] = column.default
    lines = []
    for cells, objects in flat:
        line = []
        for path in header:
            if path in cells:
                line.append(_cell(cells[path]))
            elif path.rpartition(".")[0] in objects:
                line.append(_cell(defaults.get(path, msgspec.NODEFAULT)))
            else:
                line.append("")
        lines.append(line)
    return header, lines


def csv_of(answer_type: type, answer: bytes) -> bytes | None:
    """The CSV of a JSON answer of `answer_type`, or None when it holds no table."""
    items = items_of(msgspec.json.decode(answer))
    if items is None:
        return None
    header, lines = table(_item_columns(answer_type), items)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(lines)
    return out.getvalue().encode()


def answer_type(path: str) -> type | None:
    """What the read at `path` (under /v1, without `.csv`) answers, if it is a table."""
    name = path.removeprefix("/v1/")
    if name == "timeline":
        return TimelinePage
    if name in ANSWER_TYPES:
        return ANSWER_TYPES[name]
    if name == "strikes/by-date":
        return ANSWER_TYPES["strikes"]
    if name.startswith("holdings/") and "/" not in name.removeprefix("holdings/"):
        return ANSWER_TYPES["holdings"]
    if name.removesuffix("/points") in HISTORIES and name.endswith("/points"):
        return SeriesPoints
    return {"sources": SourcesAnswer, "regions": RegionsAnswer}.get(name)


# --- negotiation ----------------------------------------------------------------------------


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media:
            ranges.append((media.lower(), quality))
    return ranges


def quality(accept: str | None, media: str) -> float:
    """How much `Accept` wants `media` (RFC 9110 12.5.1: the most specific range decides)."""
    if accept is None or not accept.strip():
        return 1.0
    kind = media.split("/", maxsplit=1)[0]
    best, weight = -1, 0.0
    for media_range, q in _ranges(accept):
        if media_range == media:
            specificity = 3
        elif media_range == "application/json" and media.endswith("+json"):
            specificity = 2  # a JSON client reads GeoJSON and problem details too
        elif media_range == f"{kind}/*":
            specificity = 1
        elif media_range == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best:
            best, weight = specificity, q
    return weight


def _not_acceptable(path: str, detail: str) -> Problem:
    return Problem(
        type=PROBLEM_BASE + "not-acceptable",
        title="No answer in a type the request accepts",
        status=406,
        detail=detail,
        instance=path,
        field="Accept",
    )


async def _send(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _refuse(send: Any, problem: Problem) -> None:
    await _send(
        send, 406, [(b"content-type", PROBLEM_MEDIA_TYPE.encode())], _encoder.encode(problem)
    )


def _header(scope: Any, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _next_link(path: str, query: bytes, cursor: str) -> bytes:
    pairs = [(k, v) for k, v in parse_qsl(query.decode("latin-1")) if k != "cursor"]
    return f'<{path}?{urlencode([*pairs, ("cursor", cursor)])}>; rel="next"'.encode()


async def answer_in_kind(scope: Any, receive: Any, send: Any, app: App) -> None:
    """`app`'s answer to a GET under /v1, as JSON or CSV as the request asks (module
    docstring); every other request goes through untouched."""
    path = str(scope.get("path", ""))
    if scope.get("type") != "http" or scope.get("method") != "GET" or not path.startswith("/v1/"):
        await app(scope, receive, send)
        return
    accept = _header(scope, b"accept")
    suffixed = path.endswith(".csv")
    asked_path = path.removesuffix(".csv")
    table_type = answer_type(asked_path)
    tabled = table_type is not None
    explained = any(
        name == "explain" and value.lower() in {"true", "1"}
        for name, value in parse_qsl(bytes(scope.get("query_string", b"")).decode("latin-1"))
    )
    offers = "application/json or text/csv" if tabled and not explained else "application/json"
    if suffixed:
        if not tabled or explained:
            what = "an explanation" if explained else f"GET {asked_path}"
            await _refuse(send, _not_acceptable(path, f"{what} has no CSV form; ask it as JSON"))
            return
        if quality(accept, "text/csv") <= 0:
            await _refuse(
                send,
                _not_acceptable(
                    path, f"Accept: {accept}: {path} answers text/csv only (without .csv: JSON)"
                ),
            )
            return
        wants_csv = True
        # Routed as the route itself; in place, so the request's metrics name its route.
        scope["path"], scope["raw_path"] = asked_path, asked_path.encode()
    else:
        json_q = quality(accept, JSON_MEDIA_TYPE)
        csv_q = quality(accept, "text/csv") if offers != JSON_MEDIA_TYPE else 0.0
        wants_csv = csv_q > json_q
        if tabled and json_q <= 0 and csv_q <= 0:
            await _refuse(
                send,
                _not_acceptable(path, f"Accept: {accept}: GET {path} answers {offers}"),
            )
            return
    answer = _in_kind(scope, send, path, accept, table_type, wants_csv=wants_csv)
    await app(scope, receive, answer)


def _in_kind(
    scope: Any,
    send: Any,
    path: str,
    accept: str | None,
    table_type: type | None,
    *,
    wants_csv: bool,
) -> Any:
    """`send`, with a 200 JSON answer turned into CSV when `wants_csv`, or refused (406)
    when the request accepts no JSON."""

    def check(message: Message) -> tuple[Message, bool]:
        headers = list(message.get("headers", ()))
        media = dict(headers).get(b"content-type", b"").split(b";")[0].strip().decode()
        is_json = media == JSON_MEDIA_TYPE or media.endswith("+json")
        if table_type is not None and message["status"] in (200, 304):
            headers.append((b"vary", b"Accept"))
        hold = message["status"] == 200 and is_json and (wants_csv or quality(accept, media) <= 0)
        return {**message, "headers": headers}, hold

    async def _answer(start: Message, json_body: bytes) -> None:
        headers = [
            (name, value)
            for name, value in start["headers"]
            if name not in (b"content-type", b"content-length")
        ]
        media = dict(start["headers"]).get(b"content-type", b"").decode()
        table_body = csv_of(table_type, json_body) if wants_csv and table_type else None
        if table_body is None:
            await _refuse(send, _not_acceptable(path, f"Accept: {accept}: {path} answers {media}"))
            return
        cursor = msgspec.json.decode(json_body).get("next_cursor")
        if isinstance(cursor, str):
            headers.append((b"link", _next_link(path, scope.get("query_string", b""), cursor)))
        await _send(send, 200, [(b"content-type", CSV_MEDIA_TYPE.encode()), *headers], table_body)

    return held_when(send, check, _answer)
