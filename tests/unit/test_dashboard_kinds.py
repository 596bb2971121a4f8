"""The dashboard's timeline filter offers every claim kind the API knows, and no other."""

from __future__ import annotations

import re
from pathlib import Path

from domain.claims import CLAIM_KINDS

PAGE = Path(__file__).resolve().parents[2] / "api" / "static" / "dashboard" / "index.html"


def test_the_dashboard_offers_every_claim_kind_to_filter_the_timeline_by() -> None:
    # Given the dashboard's page, its select of kinds
    select = re.search(r'<select name="kind">(.*?)</select>', PAGE.read_text(), re.DOTALL)
    assert select is not None
    offered = re.findall(r'<option value="([^"]*)">', select[1])

    # Then "any" comes first, then each kind of the domain in its order
    assert offered == ["", *CLAIM_KINDS]
