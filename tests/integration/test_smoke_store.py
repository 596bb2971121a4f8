from datetime import date

from domain.attribution import Attribution, Side
from domain.claims import TerritoryControl
from domain.occurrence import Day
from domain.quantities import Unit, about
from domain.report import file_report
from store.event_store import EventStore


async def test_a_filed_report_is_read_back_from_the_log(store: EventStore) -> None:
    filed = file_report(
        claim=TerritoryControl(
            actor="Ukraine", region="Kursk Oblast", country="RU", area=about(800, Unit.KM2)
        ),
        attribution=Attribution(
            source="Ukrainian General Staff source", side=Side.UKRAINE, outlet="Reuters"
        ),
        occurred=Day(on=date(2024, 11, 23)),
        reported=Day(on=date(2024, 11, 23)),
    )
    result = await store.append([filed])
    log = await store.read_log()
    assert [recorded.position for recorded in log] == [result.last_position]
    assert log[0].event == filed
