"""The strikes view: each reported attack, with what its claimant says it did.

Given the seed article's strike on occupied Berdiansk and what was said about it later, when
the strikes view folds the log, then each strike report is one row that keeps its claimant,
its corroborations and disputes, and shows when it was corrected or withdrawn.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import msgspec
import pytest

from domain.attribution import Attribution, Side, Verification
from domain.claims import Place, Strike, StrikeEffects
from domain.events import DomainEvent
from domain.occurrence import Day
from domain.quantities import Unit, exactly
from domain.report import Report, correct, dispute, file_report, project_report, retract
from projections.core import fold, render_all
from projections.views.strikes import StrikeRow, StrikesView
from seed.kursk_article import demo_report_id
from tests.projection_support import demo_events, recorded

VIEW = StrikesView()
BERDIANSK_STRIKE = demo_report_id("berdiansk-strike")
BERDIANSK = str(BERDIANSK_STRIKE)
UKRAINIAN_NAVY = Attribution(source="Ukrainian Navy spokesman", side=Side.UKRAINE)
NAVY_ACCOUNT = UUID("0d3f8b52-7c1e-4e6a-b0a4-93c2d5e8f701")


def report_after(events: list[DomainEvent], report_id: UUID) -> Report:
    report = project_report(None, [e for e in events if e.originator_id == report_id])
    assert report is not None
    return report


def strikes(events: list[DomainEvent], as_of: datetime | None = None) -> dict[str, StrikeRow]:
    state, _ = fold(VIEW, recorded(events))
    rows = render_all(VIEW, state, as_of)
    assert all(isinstance(row, StrikeRow) for row in rows.values())
    return {key: row for key, row in rows.items() if isinstance(row, StrikeRow)}


def berdiansk_strike(report: Report) -> Strike:
    assert isinstance(report.claim, Strike)
    return report.claim


def navy_account_of_the_same_strike() -> DomainEvent:
    """Ukraine's own account of the attack, with the port's coordinates."""
    return file_report(
        claim=Strike(
            attacker="Ukraine",
            target="port of Berdiansk",
            place=Place(
                name="Berdiansk",
                region="Zaporizhzhia Oblast",
                country="UA",
                latitude=46.7553,
                longitude=36.7885,
            ),
            weapon="guided missile",
            effects=StrikeEffects(damage=("port cranes",)),
        ),
        attribution=UKRAINIAN_NAVY,
        occurred=Day(on=date(2024, 11, 22)),
        reported=Day(on=date(2024, 11, 23)),
        report_id=NAVY_ACCOUNT,
    )


def test_the_demo_shows_the_berdiansk_strike_as_the_governor_tells_it() -> None:
    rows = strikes(demo_events())

    assert list(rows) == [BERDIANSK]
    row = rows[BERDIANSK]
    assert (row.attacker, row.target, row.weapon) == (
        "Ukraine",
        "port of Berdiansk",
        "guided missile",
    )
    assert (row.place.name, row.place.region, row.place.country) == (
        "Berdiansk",
        "Zaporizhzhia Oblast",
        "UA",
    )
    assert row.effects.injured == exactly(0, Unit.PEOPLE)
    assert row.effects.operations_affected is False
    assert row.effects.fires == "fires caused by the attack have been extinguished"
    assert row.occurred == Day(on=date(2024, 11, 22))
    assert row.claimant.source.startswith("Governor Yevgeny Balitsky")
    assert row.claimant.side is Side.RUSSIA
    assert row.verification is Verification.CORROBORATED
    assert [(a.source, a.side) for a in row.corroborated_by] == [
        ("Ukrainian Telegram channels", Side.UKRAINE)
    ]
    assert (row.disputed_by, row.denied_by, row.corrections) == ((), (), 0)
    assert (row.source.filed_at_position, row.source.last_changed_at_position) == (15, 16)


def test_the_demo_places_the_strike_at_the_port() -> None:
    encoded = msgspec.json.decode(msgspec.json.encode(strikes(demo_events())[BERDIANSK]))

    assert encoded["place"] == {
        "name": "Berdiansk",
        "region": "Zaporizhzhia Oblast",
        "country": "UA",
        "latitude": 46.75,
        "longitude": 36.78,
    }


def test_a_place_without_coordinates_still_shows_every_place_field() -> None:
    # The API builds GeoJSON from these keys; a missing key and a null must not differ.
    unplaced = file_report(
        claim=Strike(
            attacker="Ukraine",
            target="port of Berdiansk",
            place=Place(name="Berdiansk", region="Zaporizhzhia Oblast", country="UA"),
            weapon="guided missile",
        ),
        attribution=UKRAINIAN_NAVY,
        occurred=Day(on=date(2024, 11, 22)),
        reported=Day(on=date(2024, 11, 23)),
        report_id=NAVY_ACCOUNT,
    )
    encoded = msgspec.json.decode(msgspec.json.encode(strikes([unplaced])[str(NAVY_ACCOUNT)]))

    assert encoded["place"] == {
        "name": "Berdiansk",
        "region": "Zaporizhzhia Oblast",
        "country": "UA",
        "latitude": None,
        "longitude": None,
    }


def test_two_accounts_of_one_attack_are_two_rows_each_with_its_claimant() -> None:
    rows = strikes([*demo_events(), navy_account_of_the_same_strike()])

    assert set(rows) == {BERDIANSK, str(NAVY_ACCOUNT)}
    navy = rows[str(NAVY_ACCOUNT)]
    assert navy.claimant == UKRAINIAN_NAVY
    assert (navy.place.latitude, navy.place.longitude) == (46.7553, 36.7885)
    assert navy.effects.damage == ("port cranes",)
    assert navy.verification is Verification.UNVERIFIED


def test_a_corrected_account_replaces_the_effects_in_the_same_row() -> None:
    demo = demo_events()
    report = report_after(demo, BERDIANSK_STRIKE)
    claim = berdiansk_strike(report)
    later_account = msgspec.structs.replace(
        claim,
        effects=msgspec.structs.replace(claim.effects, damage=("a port warehouse",)),
    )
    correction = correct(
        report, claim=later_account, reason="the administration later reported a warehouse hit"
    )

    rows = strikes([*demo, correction])

    assert list(rows) == [BERDIANSK]
    row = rows[BERDIANSK]
    assert row.effects.damage == ("a port warehouse",)
    assert row.effects.injured == exactly(0, Unit.PEOPLE)
    assert row.corrections == 1
    assert row.source.last_changed_at_position == 17
    # Corroboration came before the correction and still stands.
    assert row.verification is Verification.CORROBORATED


def test_a_disputed_strike_keeps_its_corroboration_and_names_who_disputes_it() -> None:
    demo = demo_events()
    disputed = dispute(
        report_after(demo, BERDIANSK_STRIKE),
        by=UKRAINIAN_NAVY,
        reason="says the port's work was disrupted",
    )

    row = strikes([*demo, disputed])[BERDIANSK]

    assert row.verification is Verification.DISPUTED
    assert [a.source for a in row.disputed_by] == ["Ukrainian Navy spokesman"]
    assert [a.source for a in row.corroborated_by] == ["Ukrainian Telegram channels"]


def test_a_retracted_strike_keeps_its_row_marked_retracted() -> None:
    # A strike shown on a map must not vanish silently: the reader sees it was withdrawn.
    demo = demo_events()
    retraction = retract(
        report_after(demo, BERDIANSK_STRIKE), reason="the administration withdrew its statement"
    )

    rows = strikes([*demo, retraction])

    assert list(rows) == [BERDIANSK]
    row = rows[BERDIANSK]
    assert row.verification is Verification.RETRACTED
    assert row.effects.operations_affected is False
    assert row.source.last_changed_at_position == 17


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (datetime(2024, 11, 21, 12, tzinfo=UTC), []),
        (datetime(2024, 11, 22, 23, 50, tzinfo=UTC), [BERDIANSK]),
    ],
)
def test_as_of_a_moment_shows_only_strikes_that_had_happened(
    as_of: datetime, expected: list[str]
) -> None:
    assert list(strikes(demo_events(), as_of=as_of)) == expected


def test_the_same_events_render_byte_identical_rows() -> None:
    def encoded() -> bytes:
        # A fresh demo each time: the events' own creation timestamps differ between
        # calls, and must not reach the rows.
        return msgspec.json.encode(strikes([*demo_events(), navy_account_of_the_same_strike()]))

    assert encoded() == encoded()
