"""Write api/static/geo/outlines.geojson: the borders of Ukraine and its neighbours, for the
dashboard's map of strikes, from Natural Earth's 1:50m countries as the npm package
`world-atlas@2.0.2` ships them (TopoJSON, public domain data; the package is ISC).

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python tools/make_outlines.py package/countries-50m.json > api/static/geo/outlines.geojson

Each ring is clipped to the map's box (Sutherland-Hodgman; the rings are simple, and a
clipped edge along the box is never drawn as a border, see `dashboard/strikes_map.js`) and
its coordinates rounded to 0.01 degree (about 1 km), so the file stays small.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

Point = tuple[float, float]

# ISO 3166 numeric codes: Ukraine, Russia and the countries around the war's theatres.
COUNTRIES = {
    "804": "Ukraine", "643": "Russia", "112": "Belarus", "498": "Moldova", "616": "Poland",
    "642": "Romania", "703": "Slovakia", "348": "Hungary", "268": "Georgia", "792": "Turkey",
    "440": "Lithuania", "428": "Latvia", "100": "Bulgaria",
}  # fmt: skip
WEST, SOUTH, EAST, NORTH = 20.0, 40.0, 50.0, 58.0


def arcs_of(topology: dict[str, object]) -> list[list[Point]]:
    transform = topology["transform"]
    assert isinstance(transform, dict)
    (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
    decoded = []
    raw_arcs = topology["arcs"]
    assert isinstance(raw_arcs, list)
    for arc in raw_arcs:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        decoded.append(points)
    return decoded


def ring(arcs: list[list[Point]], indexes: list[int]) -> list[Point]:
    points: list[Point] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc[1:] if points else arc)
    return points


def clip(points: list[Point]) -> list[Point]:
    edges: list[tuple[Callable[[Point], bool], Callable[[Point, Point], Point]]] = [
        (lambda p: p[0] >= WEST, lambda a, b: _at_x(a, b, WEST)),
        (lambda p: p[0] <= EAST, lambda a, b: _at_x(a, b, EAST)),
        (lambda p: p[1] >= SOUTH, lambda a, b: _at_y(a, b, SOUTH)),
        (lambda p: p[1] <= NORTH, lambda a, b: _at_y(a, b, NORTH)),
    ]
    for inside, cross in edges:
        if not points:
            break
        kept: list[Point] = []
        for index, current in enumerate(points):
            previous = points[index - 1]
            if inside(current):
                if not inside(previous):
                    kept.append(cross(previous, current))
                kept.append(current)
            elif inside(previous):
                kept.append(cross(previous, current))
        points = kept
    return points


def _at_x(a: Point, b: Point, x: float) -> Point:
    return (x, a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0]))


def _at_y(a: Point, b: Point, y: float) -> Point:
    return (a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]), y)


def rounded(points: list[Point]) -> list[list[float]]:
    out: list[list[float]] = []
    for x, y in points:
        point = [round(x, 2), round(y, 2)]
        if not out or out[-1] != point:
            out.append(point)
    if out and out[0] != out[-1]:
        out.append(out[0])
    return out


def main(path: str) -> None:
    with open(path, encoding="utf-8") as file:
        topology = json.load(file)
    arcs = arcs_of(topology)
    features = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        name = COUNTRIES.get(geometry.get("id", ""))
        if name is None:
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        shapes = []
        for polygon in polygons:
            rings = [rounded(clip(ring(arcs, indexes))) for indexes in polygon]
            if len(rings[0]) >= 4:
                shapes.append([r for r in rings if len(r) >= 4])
        if shapes:
            features.append(
                {
                    "type": "Feature",
                    "properties": {"name": name},
                    "geometry": {"type": "MultiPolygon", "coordinates": shapes},
                }
            )
    collection = {
        "type": "FeatureCollection",
        "source": "Natural Earth 1:50m Admin 0 countries (v4.1.0, public domain), "
        "via world-atlas@2.0.2; clipped and rounded by tools/make_outlines.py",
        "features": features,
    }
    json.dump(collection, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
