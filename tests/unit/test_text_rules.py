"""The rules every text, list, figure and year of a report meets (domain/limits.py): checked
once, whichever way the report came in, and stored in one form.

Given the seed article's 800 km² of Kursk Oblast, when a field holds a control character,
one character too many, a decomposed accent or a year the calendar has not got, then the
domain refuses it naming the field, or stores it in NFC; and an event already in the log
that breaks a rule made after it still decodes.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta, timezone
from types import UnionType
from typing import Any, get_args, get_origin, get_type_hints

import msgspec
import pytest

from domain.attribution import Attribution, Caveat, Side, Stance
from domain.claims import CLAIM_KINDS, Claim, OffensiveLaunched, Place, TerritoryControl
from domain.errors import InvalidReport
from domain.events import EVENT_TYPES, ReportFiled
from domain.limits import (
    MAX_FIGURE,
    MAX_FREE_TEXT_CHARS,
    MAX_LIST_ITEMS,
    MAX_NAME_CHARS,
    MAX_URL_CHARS,
    TextRule,
    checked,
    rule_of,
)
from domain.occurrence import Day, Instant, Month, validate_occurrence
from domain.quantities import Unit, about
from domain.report import Report, dispute, evolve, file_report
from store.mapper import decode_event, encode_event

SATURDAY = Day(on=date(2024, 11, 23))
GENERAL_STAFF = Attribution(
    source="Ukrainian General Staff source", side=Side.UKRAINE, outlet="Reuters"
)
RUSSIAN_MOD = Attribution(source="Russian Defence Ministry", side=Side.RUSSIA)


def kursk(region: str = "Kursk Oblast", actor: str = "Ukraine", area: float = 800) -> Any:
    return TerritoryControl(actor=actor, region=region, country="RU", area=about(area, Unit.KM2))


def filed(**changes: Any) -> ReportFiled:
    arguments: dict[str, Any] = {
        "claim": kursk(),
        "attribution": GENERAL_STAFF,
        "occurred": SATURDAY,
        "reported": SATURDAY,
    }
    return file_report(**(arguments | changes))


def region_of(event: ReportFiled) -> str:
    assert isinstance(event.claim, TerritoryControl)
    return event.claim.region


def refused(**changes: Any) -> InvalidReport:
    with pytest.raises(InvalidReport) as raised:
        filed(**changes)
    return raised.value


# --- one form: NFC ---------------------------------------------------------------------------


def test_a_decomposed_name_is_stored_composed() -> None:
    # "Київ" typed with a dotted i and a combining diaeresis, as some keyboards give it.
    decomposed = "Киі\u0308в"
    assert not unicodedata.is_normalized("NFC", decomposed)

    event = filed(claim=kursk(region=f"{decomposed} Oblast"), notes=f"held near {decomposed}")

    assert region_of(event) == "Київ Oblast"
    assert event.notes == "held near Київ"
    assert unicodedata.is_normalized("NFC", region_of(event))


def test_text_already_in_nfc_is_stored_as_given() -> None:
    event = filed()
    assert event == checked(event)
    assert checked(event) is event  # nothing copied when nothing changes


# --- control characters --------------------------------------------------------------------


def test_free_text_may_break_lines_and_hold_tabs() -> None:
    notes = '"At most, we controlled about 1376 square kilometres"\n\t- General Staff source'
    assert filed(notes=notes).notes == notes


def test_a_dispute_reason_may_break_lines() -> None:
    report = evolve(None, filed())
    assert isinstance(report, Report)
    reason = "says Ukraine holds far less.\nNo map was given."
    assert dispute(report, by=RUSSIAN_MOD, reason=reason).reason == reason


@pytest.mark.parametrize("character", ["\n", "\t", "\x00", "\x1b", "\x7f", "\x85"])
def test_a_name_holds_no_control_character_not_even_a_line_break(character: str) -> None:
    error = refused(claim=kursk(region=f"Kursk{character}Oblast"))
    assert error.field == "claim.region"
    assert f"U+{ord(character):04X} at character 6" in error.message


@pytest.mark.parametrize("character", ["\x00", "\r", "\x0b", "\x1b", "\x9f", "\ud800"])
def test_free_text_holds_no_other_control_character(character: str) -> None:
    error = refused(notes=f"Kursk{character}")
    assert error.field == "notes"
    assert "line feeds and tabs are allowed" in error.message


def test_the_field_is_named_inside_lists_and_nested_structs() -> None:
    caveats = (
        Caveat(party="Reuters", stance=Stance.COULD_NOT_VERIFY),
        Caveat(party="\x00", stance=Stance.DENIED),
    )
    assert refused(caveats=caveats).field == "caveats[1].party"
    attribution = Attribution(
        source="Reuters", side=Side.THIRD_PARTY, url="https://reuters.com/\x00"
    )
    assert refused(attribution=attribution).field == "attribution.url"


# --- lengths and counts, at the limit and one beyond ----------------------------------------


@pytest.mark.parametrize(
    ("make", "limit", "field"),
    [
        pytest.param(
            lambda n: {"claim": kursk(region="K" * n)}, MAX_NAME_CHARS, "claim.region", id="name"
        ),
        pytest.param(
            lambda n: {
                "attribution": Attribution(source="Reuters", side=Side.THIRD_PARTY, url="h" * n)
            },
            MAX_URL_CHARS,
            "attribution.url",
            id="url",
        ),
        pytest.param(lambda n: {"notes": "k" * n}, MAX_FREE_TEXT_CHARS, "notes", id="free text"),
        pytest.param(
            lambda n: {"caveats": (Caveat(party="Reuters", stance=Stance.DENIED),) * n},
            MAX_LIST_ITEMS,
            "caveats",
            id="list",
        ),
        pytest.param(
            lambda n: {
                "claim": OffensiveLaunched(
                    actor="Ukraine",
                    region="Kursk Oblast",
                    country="RU",
                    objectives=("stem attacks",) * n,
                )
            },
            MAX_LIST_ITEMS,
            "claim.objectives",
            id="objectives",
        ),
    ],
)
def test_a_limit_is_reached_but_not_passed(make: Any, limit: int, field: str) -> None:
    filed(**make(limit))

    error = refused(**make(limit + 1))

    assert error.field == field
    assert f"{limit:,}" in error.message


def test_the_length_is_counted_once_composed() -> None:
    # 200 letters with a combining accent each are 400 code points, but 200 once composed.
    assert region_of(filed(claim=kursk(region="e\u0301" * MAX_NAME_CHARS))) == "é" * 200


def test_a_figure_is_at_most_a_billion() -> None:
    filed(claim=kursk(area=MAX_FIGURE))

    error = refused(claim=kursk(area=MAX_FIGURE + 1))

    assert error.field == "claim.area.value"
    assert "at most 1,000,000,000" in error.message


# --- the calendar ---------------------------------------------------------------------------


@pytest.mark.parametrize("year", [1, 2024, 9999])
def test_a_month_of_the_calendar_is_accepted(year: int) -> None:
    validate_occurrence(Month(year=year, month=11 if year == 9999 else 1), "occurred")


@pytest.mark.parametrize("year", [0, -1, 10_000, 2**31, 2**70])
def test_a_month_outside_the_years_1_to_9999_is_refused_by_its_year(year: int) -> None:
    error = refused(occurred=Month(year=year, month=8))
    assert error.field == "occurred.year"
    assert "between 1 and 9999" in error.message


@pytest.mark.parametrize(
    "when",
    [
        pytest.param(Month(year=9999, month=12), id="the last month"),
        pytest.param(Day(on=date(9999, 12, 31)), id="the last day"),
        pytest.param(
            Instant(at=datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))),
            id="year 0 in UTC",
        ),
    ],
)
def test_a_time_whose_end_or_utc_falls_off_the_calendar_is_refused(when: Any) -> None:
    assert refused(occurred=when).field == "occurred"


def test_a_place_off_the_globe_is_refused() -> None:
    with pytest.raises(InvalidReport) as raised:
        Place(name="Berdiansk", latitude=91.0, longitude=36.8).validate("claim.place")
    assert raised.value.field == "claim.place.latitude"


# --- declared once, on the fields -----------------------------------------------------------


def _text_fields(struct_type: type[msgspec.Struct]) -> dict[str, Any]:
    hints = get_type_hints(struct_type, include_extras=True)
    found = {}
    for field in msgspec.structs.fields(struct_type):
        hint = hints[field.name]
        bare = getattr(hint, "__origin__", hint)
        members = get_args(hint) if get_origin(hint) is UnionType else (hint,)
        if (
            str in members
            or bare is str
            or any(getattr(m, "__origin__", m) is str for m in members)
        ):
            found[field.name] = rule_of(hint)
    return found


def test_every_text_field_of_a_claim_or_an_event_declares_its_rule() -> None:
    claim_types = get_args(Claim)
    assert len(claim_types) == len(CLAIM_KINDS)
    structs = [*EVENT_TYPES, *claim_types, Attribution, Caveat, Place]
    undeclared = [
        f"{struct.__name__}.{name}"
        for struct in structs
        for name, rule in _text_fields(struct).items()
        if not isinstance(rule, TextRule)
    ]
    assert undeclared == []


# --- the forever schema ---------------------------------------------------------------------


def test_an_event_recorded_before_the_rules_still_decodes() -> None:
    # A poison event as one was recorded before issue 10: a NUL in the region and 20,000
    # characters of notes. The rules hold for new events only; the log is read as it is.
    poison = msgspec.structs.replace(
        filed(), claim=kursk(region="Kursk\x00Oblast"), notes="k" * 20_000
    )
    topic, state = encode_event(poison)

    decoded = decode_event(topic, state)

    assert decoded == poison
