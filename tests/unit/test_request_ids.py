"""A request id is taken from the caller only when it cannot break or bloat a log line."""

from __future__ import annotations

import pytest

from api.requests_seen import new_request_id, request_id_of


@pytest.mark.parametrize(
    "sent",
    [
        "desk-kursk-2024-11-23",
        "0b7e3c1a-6142-4157-855c-ed8015ba04f4",
        "berdiansk/strike:1",
        "x" * 128,
    ],
)
def test_a_sane_request_id_is_kept(sent: str) -> None:
    assert request_id_of([(b"x-request-id", sent.encode())]) == sent


@pytest.mark.parametrize(
    "sent",
    [b"", b"x" * 129, b"kursk 800", b"kursk\r\nlevel: critical", b"kursk\x00", "Курськ".encode()],
)
def test_an_insane_request_id_is_replaced_by_a_new_one(sent: bytes) -> None:
    made = request_id_of([(b"x-request-id", sent)])
    assert made.encode() != sent
    assert request_id_of([(b"x-request-id", made.encode())]) == made


def test_made_ids_differ() -> None:
    assert len({new_request_id() for _ in range(1000)}) == 1000
    assert request_id_of([]) != request_id_of([])
