"""Strikes as GeoJSON (`GET /v1/strikes.geojson`): a Point feature per strike whose place
has coordinates, its properties the strike's place, sides, weapon, claimant, verification,
occurrence and claimed effects."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal
from uuid import UUID

import msgspec

from projections.views.strikes import StrikeRow


class PointGeometry(msgspec.Struct, frozen=True):
    coordinates: tuple[float, float]  # longitude, latitude (GeoJSON order)
    type: Literal["Point"] = "Point"


class StrikeFeature(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    geometry: PointGeometry
    properties: dict[str, Any]
    type: Literal["Feature"] = "Feature"


class StrikeFeatures(msgspec.Struct, frozen=True, kw_only=True):
    """A page of strikes (up to `limit` of them, in key order; those without coordinates are
    left out, so a page may hold fewer features), and where the next page starts
    (`next_cursor`, null on the last one): GeoJSON's foreign members."""

    features: tuple[StrikeFeature, ...]
    position: int
    limit: int
    next_cursor: str | None
    type: Literal["FeatureCollection"] = "FeatureCollection"


def strike_features(rows: Iterable[StrikeRow]) -> tuple[StrikeFeature, ...]:
    features = []
    for row in rows:
        place = row.place
        if place.latitude is None or place.longitude is None:
            continue
        features.append(
            StrikeFeature(
                id=row.report_id,
                geometry=PointGeometry((place.longitude, place.latitude)),
                properties={
                    "place": place.name,
                    "region": place.region,
                    "country": place.country,
                    "attacker": row.attacker,
                    "target": row.target,
                    "weapon": row.weapon,
                    "claimant": row.claimant.source,
                    "verification": row.verification.value,
                    "occurred": msgspec.to_builtins(row.occurred),
                    "effects": msgspec.to_builtins(row.effects),
                },
            )
        )
    return tuple(features)
