"""The chain's canonical bytes, its links, and a walk over a log that names the first break."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec

from store.chain import GENESIS, ChainRow, ChainWalk, canonical_bytes, link
from store.mapper import encode_event
from tests.seed_values import berdiansk_strike, filed, kursk_held_now, port_damage_since_july_2023

KURSK_ID = UUID("acef43f9-0d52-53ec-b6c7-1c6020bb3419")
RECORDED = datetime(2024, 11, 23, 18, 0, 0, 250_000, tzinfo=UTC)


def kursk_state() -> bytes:
    return encode_event(filed(kursk_held_now(KURSK_ID)))[1]


def a_log(count: int, *, first_position: int = 1) -> list[ChainRow]:
    """`count` seed-article filings, linked as the database links them."""
    builders = (kursk_held_now, berdiansk_strike, port_damage_since_july_2023)
    rows: list[ChainRow] = []
    previous = GENESIS
    for n in range(count):
        event = filed(builders[n % len(builders)]())
        topic, state = encode_event(event)
        position = first_position + n
        recorded_at = RECORDED + timedelta(milliseconds=n)
        chain_hash = link(
            previous,
            canonical_bytes(
                position=position,
                report_id=event.originator_id,
                version=1,
                topic=topic,
                recorded_at=recorded_at,
                state=state,
            ),
        )
        rows.append((position, event.originator_id, 1, topic, recorded_at, state, chain_hash))
        previous = chain_hash
    return rows


def walked(rows: list[ChainRow]) -> ChainWalk:
    walk = ChainWalk()
    walk.feed(rows)
    return walk


def with_state(row: ChainRow, state: bytes) -> ChainRow:
    return (*row[:5], state, row[6])


def hash_of(row: ChainRow) -> bytes:
    assert row[6] is not None
    return row[6]


def kursk_canonical(
    *,
    position: int = 4,
    report_id: UUID = KURSK_ID,
    version: int = 1,
    topic: str = "report-filed",
    recorded_at: datetime = RECORDED,
    state: bytes | None = None,
) -> bytes:
    return canonical_bytes(
        position=position,
        report_id=report_id,
        version=version,
        topic=topic,
        recorded_at=recorded_at,
        state=kursk_state() if state is None else state,
    )


# --- canonical bytes ----------------------------------------------------------------------


def test_canonical_bytes_lay_out_each_field_in_the_documented_order() -> None:
    # Given the 800 km² Kursk filing recorded at position 4, version 1
    state = kursk_state()

    # When its canonical bytes are taken
    canonical = canonical_bytes(
        position=4,
        report_id=KURSK_ID,
        version=1,
        topic="report-filed",
        recorded_at=RECORDED,
        state=state,
    )

    # Then they are position, report id, version, the type with its length, the recorded
    # time in microseconds since 2000, and the state's SHA-256, in that order
    microseconds = (RECORDED - datetime(2000, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert canonical == (
        bytes.fromhex("0000000000000004")
        + bytes.fromhex("acef43f90d5253ecb6c71c6020bb3419")
        + bytes.fromhex("0000000000000001")
        + bytes.fromhex("0000000c")
        + b"report-filed"
        + microseconds.to_bytes(8, "big", signed=True)
        + hashlib.sha256(state).digest()
    )
    assert len(canonical) == 8 + 16 + 8 + 4 + 12 + 8 + 32


def test_every_field_and_every_microsecond_changes_the_bytes() -> None:
    original = kursk_canonical()
    assert kursk_canonical(position=5) != original
    assert kursk_canonical(report_id=UUID("ba3bc903-d431-54c7-ae75-987235482765")) != original
    assert kursk_canonical(version=2) != original
    assert kursk_canonical(topic="report-corrected") != original
    assert kursk_canonical(recorded_at=RECORDED + timedelta(microseconds=1)) != original
    assert kursk_canonical(state=kursk_state().replace(b"800.0", b"900.0")) != original


def test_times_before_2000_count_back_from_it() -> None:
    a_second_before = kursk_canonical(recorded_at=datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC))
    assert a_second_before[48:56] == (-1_000_000).to_bytes(8, "big", signed=True)


def test_a_link_is_the_sha256_of_the_previous_hash_and_the_canonical_bytes() -> None:
    canonical = b"any canonical bytes"
    assert link(GENESIS, canonical) == hashlib.sha256(bytes(32) + canonical).digest()


def test_the_format_stays_what_it_was() -> None:
    # Stored hashes are forever: the same three events give the same head as they always did.
    state = msgspec.json.encode({"claim": {"kind": "territory_control", "region": "Kursk Oblast"}})
    head = GENESIS
    for position in (1, 2, 3):
        head = link(
            head,
            canonical_bytes(
                position=position,
                report_id=KURSK_ID,
                version=position,
                topic="report-filed" if position == 1 else "report-corroborated",
                recorded_at=RECORDED,
                state=state,
            ),
        )
    assert head.hex() == "e519e7523276c4e194eee68e3025fc3f7f586f4a3aec7e8f5ed2bca0598c6240"


# --- walking a log ------------------------------------------------------------------------


def test_an_untouched_log_is_intact_up_to_its_newest_event() -> None:
    log = a_log(5)
    result = walked(log).result()
    assert result.intact
    assert (result.position, result.events) == (5, 5)
    assert result.head_hash == hash_of(log[-1]).hex()
    assert result.describe() == f"intact up to position 5, head hash {result.head_hash}"


def test_an_empty_log_is_intact_at_the_genesis_hash() -> None:
    result = ChainWalk().result()
    assert result.intact
    assert (result.position, result.head_hash) == (0, GENESIS.hex())


def test_positions_skipped_by_a_rolled_back_append_do_not_break_the_chain() -> None:
    # Given events linked one after the other at positions 1, 2, then 7 (3 to 6 were
    # reserved by an append that rolled back)
    log = a_log(3)
    after_the_gap = a_log(1, first_position=7)[0]
    chain_hash = link(
        hash_of(log[1]),
        canonical_bytes(
            position=7,
            report_id=after_the_gap[1],
            version=1,
            topic=after_the_gap[3],
            recorded_at=after_the_gap[4],
            state=after_the_gap[5],
        ),
    )
    # Then the walk finds it intact
    assert walked([log[0], log[1], (*after_the_gap[:6], chain_hash)]).result().intact


def test_a_changed_state_breaks_the_chain_at_that_event() -> None:
    # Given the 800 km² figure at position 1 edited to 900 km² after it was linked
    log = a_log(5)
    log[0] = with_state(log[0], log[0][5].replace(b"800.0", b"900.0"))

    result = walked(log).result()

    assert not result.intact
    assert result.broken_at == 1
    assert result.position == 0
    assert result.head_hash == GENESIS.hex()
    assert result.reason == "its content or chain hash changed after it was linked"


def test_a_change_in_the_middle_is_named_and_the_events_before_it_stand() -> None:
    log = a_log(5)
    position, report_id, version, topic, recorded_at, state, chain_hash = log[2]
    log[2] = (position, report_id, version + 1, topic, recorded_at, state, chain_hash)

    result = walked(log).result()

    assert (result.broken_at, result.position, result.events) == (3, 2, 2)
    assert result.head_hash == hash_of(log[1]).hex()
    assert result.describe().startswith("broken at position 3: its content or chain hash")


def test_a_deleted_event_is_named_by_its_position() -> None:
    log = a_log(5)
    del log[2]

    result = walked(log).result()

    assert result.broken_at == 3
    assert result.reason is not None
    assert result.reason.startswith("position 3 missing")


def test_several_deleted_events_are_named_as_a_range() -> None:
    log = a_log(6)
    del log[1:4]

    result = walked(log).result()

    assert result.broken_at == 2
    assert result.reason is not None
    assert result.reason.startswith("positions 2 to 4 missing")


def test_a_deleted_first_event_is_named() -> None:
    result = walked(a_log(3)[1:]).result()
    assert result.broken_at == 1


def test_an_event_without_a_chain_hash_breaks_the_chain() -> None:
    log = a_log(3)
    log[1] = (*log[1][:6], None)
    result = walked(log).result()
    assert (result.broken_at, result.reason) == (2, "it has no chain hash")


def test_a_log_fed_in_pages_is_walked_as_one() -> None:
    log = a_log(7)
    walk = ChainWalk()
    assert walk.feed(log[:3])
    assert walk.feed([])
    assert walk.feed(log[3:])
    assert walk.result() == walked(log).result()
    log[4] = with_state(log[4], b"{}")
    walk = ChainWalk()
    assert walk.feed(log[:3])
    assert not walk.feed(log[3:])
    assert (walk.result().broken_at, walk.result().position, walk.result().events) == (5, 4, 4)


def test_events_out_of_order_break_the_chain() -> None:
    log = a_log(3)
    log[1], log[2] = log[2], log[1]
    result = walked(log).result()
    assert result.broken_at == 2  # position 3 where 2 was due: 2 looks missing
    log = a_log(3)
    result = walked([log[0], log[1], log[1]]).result()
    assert (result.broken_at, result.reason) == (2, "it comes after position 2")
