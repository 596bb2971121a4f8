"""Sources and regions, summed up from the timeline's rows (`GET /v1/sources`,
`/v1/regions`): per source, what it reported, relayed by whom and how its reports stand; per
region, its reports by kind and the actors named. The groups they sum are counted in
PostgreSQL (projections/timeline_pages.py), live or at a past moment, or from replayed rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import msgspec

from projections.timeline_groups import RegionGroup, SourceGroup


class SourceSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A source as the timeline knows it: what it reported, relayed by whom, how it stands."""

    source: str
    sides: tuple[str, ...]
    outlets: tuple[str, ...]
    reports: int
    retracted: int
    kinds: dict[str, int]
    verification: dict[str, int]


class RegionSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A region reports are about; `key` is what /v1/holdings/{region} and ?region= take."""

    key: str
    region: str
    country: str | None
    reports: int
    kinds: dict[str, int]
    actors: tuple[str, ...]


class SourcesAnswer(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    sources: tuple[SourceSummary, ...]


class RegionsAnswer(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    regions: tuple[RegionSummary, ...]


def _counted(counts: Iterable[tuple[str, int]]) -> dict[str, int]:
    counted: Counter[str] = Counter()
    for name, count in counts:
        counted[name] += count
    return dict(sorted(counted.items()))


def summed_sources(groups: Iterable[SourceGroup]) -> tuple[SourceSummary, ...]:
    # Grouped in the order of their first report, so that two spellings of one source
    # (equal but for case) come in the order a reader of the rows meets them.
    by_source: dict[str, list[SourceGroup]] = {}
    for group in sorted(groups, key=lambda group: group.first_key):
        by_source.setdefault(group.source, []).append(group)
    return tuple(
        SourceSummary(
            source=source,
            sides=tuple(sorted({group.side for group in groups})),
            outlets=tuple(sorted({group.outlet for group in groups if group.outlet})),
            reports=sum(group.reports for group in groups),
            retracted=sum(group.reports for group in groups if group.retracted),
            kinds=_counted((group.kind, group.reports) for group in groups),
            verification=_counted((group.verification, group.reports) for group in groups),
        )
        for source, groups in sorted(by_source.items(), key=lambda item: item[0].casefold())
    )


def summed_regions(groups: Iterable[RegionGroup]) -> tuple[RegionSummary, ...]:
    # In the order of their first report: the region's name and country are those of the
    # first report (by id) that gives one, as a reader of the rows in key order finds them.
    by_region: dict[str, list[RegionGroup]] = {}
    for group in sorted(groups, key=lambda group: group.first_key):
        by_region.setdefault(group.region_key, []).append(group)
    return tuple(
        RegionSummary(
            key=key,
            region=groups[0].region or key,
            country=next((group.country for group in groups if group.country), None),
            reports=sum(group.reports for group in groups),
            kinds=_counted((group.kind, group.reports) for group in groups),
            actors=tuple(sorted({actor for group in groups for actor in group.actors})),
        )
        for key, groups in sorted(by_region.items())
    )
