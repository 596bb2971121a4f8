"""Given a JSON body for a command, when it is wrong, then the error names the field."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from application.commands import CorrectReport, FileReport
from application.decoding import decode_command
from domain.claims import TerritoryControl
from domain.errors import InvalidReport
from domain.quantities import Qualifier, Unit

KURSK_NOW: dict[str, Any] = {
    "claim": {
        "kind": "territory_control",
        "actor": "Ukraine",
        "region": "Kursk Oblast",
        "country": "RU",
        "area": {"unit": "km2", "value": 800, "qualifier": "about"},
    },
    "attribution": {
        "source": "Ukrainian General Staff source",
        "side": "ukraine",
        "outlet": "Reuters",
    },
    "occurred": {"precision": "day", "on": "2024-11-23"},
    "reported": {"precision": "day", "on": "2024-11-23"},
    "caveats": [{"party": "Reuters", "stance": "could_not_verify"}],
}


def _body(change: Callable[[dict[str, Any]], object]) -> bytes:
    body = copy.deepcopy(KURSK_NOW)
    change(body)
    return json.dumps(body).encode()


def test_a_valid_body_decodes_into_the_command() -> None:
    command = decode_command(FileReport, json.dumps(KURSK_NOW).encode())
    assert isinstance(command.claim, TerritoryControl)
    assert command.claim.area.value == 800.0
    assert command.claim.area.unit is Unit.KM2
    assert command.claim.area.qualifier is Qualifier.ABOUT


@pytest.mark.parametrize(
    ("change", "field", "phrase"),
    [
        (lambda b: b["claim"].update(kind="tank_battle"), "claim.kind", "tank_battle"),
        (lambda b: b["occurred"].update(on="2024-13-01"), "occurred.on", "date"),
        (lambda b: b["occurred"].update(precision="fortnight"), "occurred.precision", "fortnight"),
        (lambda b: b["attribution"].pop("source"), "attribution.source", "missing"),
        (lambda b: b["claim"]["area"].update(value="lots"), "claim.area.value", "float"),
        (lambda b: b["claim"]["area"].update(colour="red"), "claim.area.colour", "unknown"),
        (lambda b: b.update(recorded_at="2024-11-23T00:00:00Z"), "recorded_at", "unknown"),
        (lambda b: b["caveats"][0].update(stance="maybe"), "caveats[0].stance", "maybe"),
        (lambda b: b["attribution"].update(side="north_korea"), "attribution.side", "north_korea"),
    ],
    ids=[
        "unknown kind",
        "bad date",
        "unknown precision",
        "missing source",
        "figure as text",
        "unknown nested field",
        "caller sets recorded time",
        "unknown stance",
        "unknown side",
    ],
)
def test_a_wrong_body_is_rejected_naming_the_field(
    change: Callable[[dict[str, Any]], object], field: str, phrase: str
) -> None:
    with pytest.raises(InvalidReport) as raised:
        decode_command(FileReport, _body(change))
    assert raised.value.field == field
    assert phrase in raised.value.message.lower() or phrase in raised.value.message


def test_malformed_json_is_rejected_as_a_whole_body() -> None:
    with pytest.raises(InvalidReport) as raised:
        decode_command(FileReport, b'{"claim": ')
    assert raised.value.field == "body"
    assert "malformed JSON" in raised.value.message


def test_a_correction_body_is_decoded_with_its_own_schema() -> None:
    body = {"claim": KURSK_NOW["claim"], "reason": "General Staff revised the figure"}
    command = decode_command(CorrectReport, json.dumps(body).encode())
    assert command.reason == "General Staff revised the figure"
    with pytest.raises(InvalidReport) as raised:
        decode_command(CorrectReport, json.dumps({"claim": KURSK_NOW["claim"]}).encode())
    assert raised.value.field == "reason"
