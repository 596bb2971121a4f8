"""The answers an API process remembers stay within its budget (api/answer_cache.py): given
a flood of large answers (as a client varying `as_of` or paging explanations would ask),
the cache's accounted size never passes the budget, an answer too large for it is given but
not kept, and the small answer a dashboard keeps asking for is still remembered."""

from __future__ import annotations

from api.answer_cache import LARGEST_SHARE, AnswerCache, weight
from api.live_views import Encoded, LiveView
from projections.registry import ROW_TYPES

BUDGET = 1_048_576
HOLDINGS_ANSWER = Encoded(b'{"rows":[{"key":"kursk-oblast/ukraine"}]}', 'W/"800"')


def _view(name: str, answers: AnswerCache) -> LiveView:
    """A view as LiveViews makes it: its memo drawing on the process's one cache."""
    return LiveView(name, ROW_TYPES[name], _memo=answers.memo())


def _past_answer(day: int, size: int) -> tuple[Encoded, int]:
    """A large answer about a past date, as api/reads.py remembers one."""
    return Encoded(b"x" * size, f'W/"{day}"'), day


def test_a_flood_of_large_answers_stays_within_the_budget_and_keeps_the_asked_small_one() -> None:
    answers = AnswerCache(max_bytes=BUDGET)
    holdings, damage = _view("holdings", answers), _view("damage", answers)
    live = ("answered", "/v1/holdings", b"")
    holdings.remember(live, HOLDINGS_ANSWER)

    for day in range(1, 200):
        view = holdings if day % 2 else damage
        view.remember(("as_of", f"2024-08-{day:03}"), _past_answer(day, 100_000))
        assert answers.size <= BUDGET
        assert holdings.memo(live) is HOLDINGS_ANSWER  # the dashboard asks again

    assert len(answers) == 11  # ten 100 kB answers fit in 1 MiB, with the small one
    assert answers.size > 10 * 100_000  # each counted with its body
    assert holdings.memo(("as_of", "2024-08-001")) is None  # the oldest went first
    assert damage.memo(("as_of", "2024-08-198")) is not None


def test_an_answer_over_an_eighth_of_the_budget_is_given_but_not_kept() -> None:
    answers = AnswerCache(max_bytes=BUDGET)
    view = _view("holdings", answers)
    view.remember(("explain", 1), _past_answer(1, BUDGET // LARGEST_SHARE))
    assert view.memo(("explain", 1)) is None
    assert answers.size == 0
    view.remember(("explain", 2), _past_answer(2, BUDGET // LARGEST_SHARE - 1_000))
    assert view.memo(("explain", 2)) is not None


def test_a_view_that_moves_forgets_only_its_own_answers() -> None:
    answers = AnswerCache(max_bytes=BUDGET)
    holdings = _view("holdings", answers)
    damage = _view("damage", answers)
    holdings.remember("same question", HOLDINGS_ANSWER)
    damage.remember("same question", _past_answer(23, 321))

    holdings.update(17, [])

    assert holdings.memo("same question") is None
    assert damage.memo("same question") is not None
    assert answers.size == weight("same question") + weight(_past_answer(23, 321))


def test_the_number_of_answers_is_bounded_too() -> None:
    answers = AnswerCache(max_bytes=BUDGET, max_answers=50)
    view = _view("timeline", answers)
    for page in range(500):
        view.remember(("page", page), HOLDINGS_ANSWER)
    assert len(answers) == 50
    assert view.memo(("page", 499)) is HOLDINGS_ANSWER
