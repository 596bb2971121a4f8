"""Loading the demo into a real log: once, twice, and after a run that died half-way."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

import pytest

from application.commands import (
    CorrectReport,
    CorroborateReport,
    DenyReport,
    DisputeReport,
    FileReport,
    LifeCycleCommand,
    RetractReport,
)
from application.reports import ReportService
from domain.attribution import Caveat, Side, Stance, Verification
from domain.claims import Extent, TerritoryControl
from domain.events import (
    DomainEvent,
    ReportCorrected,
    ReportCorroborated,
    ReportDenied,
    ReportDisputed,
    ReportFiled,
    ReportRetracted,
)
from domain.quantities import Qualifier, Quantity, Unit
from seed.demo import load_demo
from seed.kursk_article import demo_report_id, demo_reports
from store.event_store import AppendResult, EventStore

DEMO = demo_reports()
DEMO_EVENTS = sum(1 + len(demo.follow_ups) for demo in DEMO)
# Each write of a full load, in order: (slug, 0) files the report, (slug, n) its n-th step.
WRITES = [(demo.slug, step) for demo in DEMO for step in range(1 + len(demo.follow_ups))]
FIRST_WITH_FOLLOW_UPS = next(demo.slug for demo in DEMO if demo.follow_ups)
EVENT_OF_STEP: dict[type[LifeCycleCommand], type[DomainEvent]] = {
    CorroborateReport: ReportCorroborated,
    DisputeReport: ReportDisputed,
    DenyReport: ReportDenied,
    CorrectReport: ReportCorrected,
    RetractReport: ReportRetracted,
}


class ProcessDied(Exception):
    pass


class DiesAfterWrites(ReportService):
    """A service whose process dies once `writes` writes have committed, before it hears
    back from the last one: the worst moment, since the write landed unbeknown."""

    def __init__(self, store: EventStore, writes: int) -> None:
        super().__init__(store)
        self._left = writes

    def _landed(self, result: AppendResult) -> AppendResult:
        self._left -= 1
        if self._left == 0:
            raise ProcessDied
        return result

    async def file(
        self, command: FileReport, *, idempotency_key: str | None = None
    ) -> AppendResult:
        return self._landed(await super().file(command, idempotency_key=idempotency_key))

    async def apply(
        self,
        report_id: UUID,
        command: LifeCycleCommand,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> AppendResult:
        result = await super().apply(
            report_id,
            command,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )
        return self._landed(result)


async def assert_each_report_told_once(store: EventStore) -> None:
    log = await store.read_log(limit=10_000)
    stories: dict[UUID, list[type[DomainEvent]]] = defaultdict(list)
    for recorded in log:
        stories[recorded.event.originator_id].append(type(recorded.event))
    assert len(log) == DEMO_EVENTS
    for demo in DEMO:
        expected = [ReportFiled, *(EVENT_OF_STEP[type(step)] for step in demo.follow_ups)]
        assert stories[demo.report_id] == expected, demo.slug


async def test_loading_twice_adds_the_demo_once(store: EventStore) -> None:
    service = ReportService(store)

    added = await load_demo(service)
    assert added == DEMO_EVENTS
    log = await store.read_log(limit=10_000)
    assert len(log) == DEMO_EVENTS

    assert await load_demo(service) == 0
    assert await store.read_log(limit=10_000) == log


@pytest.mark.parametrize(
    "writes",
    [
        pytest.param(1, id="after the first report"),
        pytest.param(
            WRITES.index((FIRST_WITH_FOLLOW_UPS, 0)) + 1, id="after a filing, before its step"
        ),
        pytest.param(WRITES.index((FIRST_WITH_FOLLOW_UPS, 1)) + 1, id="after a step"),
        pytest.param(len(WRITES), id="after the last write"),
    ],
)
async def test_a_load_that_died_is_completed_without_duplicates(
    store: EventStore, writes: int
) -> None:
    with pytest.raises(ProcessDied):
        await load_demo(DiesAfterWrites(store, writes))
    assert await store.position() == writes

    assert await load_demo(ReportService(store)) == DEMO_EVENTS - writes
    await assert_each_report_told_once(store)
    assert await load_demo(ReportService(store)) == 0


async def test_a_demo_report_filed_by_hand_is_not_filed_again(store: EventStore) -> None:
    service = ReportService(store)
    kursk = next(demo for demo in DEMO if demo.slug == "kursk-current-holding")
    await service.file(kursk.filing)

    assert await load_demo(service) == DEMO_EVENTS - 1
    await assert_each_report_told_once(store)


async def test_the_kursk_holding_reads_back_as_the_general_staff_source_gave_it(
    store: EventStore,
) -> None:
    service = ReportService(store)
    await load_demo(service)

    report = await service.get(demo_report_id("kursk-current-holding"))

    assert isinstance(report.claim, TerritoryControl)
    assert report.claim.region.startswith("Kursk")
    assert report.claim.extent is Extent.CURRENT
    assert report.claim.area == Quantity(unit=Unit.KM2, value=800, qualifier=Qualifier.ABOUT)
    assert report.attribution.source == "Ukrainian General Staff source"
    assert (report.attribution.side, report.attribution.outlet) == (Side.UKRAINE, "Reuters")
    assert Caveat(party="Reuters", stance=Stance.COULD_NOT_VERIFY) in report.caveats
    assert report.verification is Verification.UNVERIFIED


async def test_the_berdiansk_strike_reads_back_corroborated_by_the_other_side(
    store: EventStore,
) -> None:
    service = ReportService(store)
    await load_demo(service)

    history = await service.history(demo_report_id("berdiansk-strike"))

    assert [type(recorded.event) for recorded in history.events] == [
        ReportFiled,
        ReportCorroborated,
    ]
    assert history.report.attribution.side is Side.RUSSIA
    assert history.report.verification is Verification.CORROBORATED
    assert [by.side for by in history.report.corroborated_by] == [Side.UKRAINE]
