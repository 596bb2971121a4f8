"""TIMELINE_APPEND_GROUP_MAX: how many appends one transaction of the log may hold."""

from __future__ import annotations

import pytest

from cli.main import main
from store.settings import APPEND_GROUP_MAX_VARIABLE, DEFAULT_APPEND_GROUP_MAX, append_group_max


def test_unset_a_group_holds_sixty_four_appends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(APPEND_GROUP_MAX_VARIABLE, raising=False)
    assert append_group_max() == DEFAULT_APPEND_GROUP_MAX == 64


def test_an_operator_may_bound_groups_down_to_one_append(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(APPEND_GROUP_MAX_VARIABLE, " 1 ")
    assert append_group_max() == 1


@pytest.mark.parametrize("value", ["0", "-8", "many", "6.5"])
def test_a_bound_that_is_not_a_whole_number_from_one_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(APPEND_GROUP_MAX_VARIABLE, value)
    with pytest.raises(ValueError, match=APPEND_GROUP_MAX_VARIABLE):
        append_group_max()


def test_serve_refuses_a_bad_bound_in_one_line_before_it_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(APPEND_GROUP_MAX_VARIABLE, "0")

    assert main(["serve", "--port", "8000"]) == 2

    assert capsys.readouterr().err == (
        "timeline serve: TIMELINE_APPEND_GROUP_MAX must be a whole number from 1, not '0'\n"
    )
