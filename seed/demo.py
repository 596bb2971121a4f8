"""The demo: the seed article's reports (`seed/kursk_article.py`) filed through the
application by a loader that can be run any number of times (`timeline demo`)."""

from __future__ import annotations

from application.reports import ReportService
from domain.errors import ReportNotFound
from seed.kursk_article import demo_reports
from store.event_store import AppendResult


def _added(result: AppendResult) -> int:
    return 0 if result.replayed else len(result.events)


async def load_demo(service: ReportService) -> int:
    """File the demo reports and their follow-ups that are not yet recorded; return how
    many events were added (0 when the demo is already loaded).

    Every write carries an idempotency key naming its place in the demo, so a run that died
    half-way is completed by the next one, and two runs at once write each event once.
    """
    added = 0
    for demo in demo_reports():
        try:
            await service.get(demo.report_id)
        except ReportNotFound:
            added += _added(await service.file(demo.filing, idempotency_key=f"demo:{demo.slug}"))
        for index, command in enumerate(demo.follow_ups, start=1):
            key = f"demo:{demo.slug}:{index}"
            added += _added(await service.apply(demo.report_id, command, idempotency_key=key))
    return added
