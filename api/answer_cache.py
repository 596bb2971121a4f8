"""The answers an API process remembers, within a budget of bytes and of answers.

Each view remembers the answers it gave at its position (api/live_views.py `LiveView.memo`,
and the responses of api/read_cache.py), forgetting them when it moves. A view that does not
move for a while would otherwise keep every answer it was asked for, whatever its size: a
question about the past or an explanation can be megabytes, and a client varying `as_of`
asks a new one each time. So every view's memo draws on one budget per process
(`TIMELINE_ANSWER_CACHE_BYTES`, 64 MiB by default, and `MAX_ANSWERS` answers): the least
recently used answer goes first, and an answer larger than a `LARGEST_SHARE`th of the budget
is not kept at all, so that one cannot push out every dashboard's small ones.

What an answer weighs is its bytes (bodies, headers, the question's own text) and a fixed
allowance for the objects around them: an estimate, not the interpreter's count, but one
that grows as the answer does.
"""

from __future__ import annotations

from collections import OrderedDict

DEFAULT_ANSWER_CACHE_BYTES = 64 * 1_048_576
MAX_ANSWERS = 8192
LARGEST_SHARE = 8  # an answer over an eighth of the budget is given, not kept
OVERHEAD = 64  # the objects around the bytes: a tuple, a struct, a dict entry


def weight(thing: object) -> int:
    """What remembering `thing` costs, roughly: its bytes and text, and `OVERHEAD` per object.

    Answers are bytes, text, tuples of them, or objects carrying a `body` (and `headers`)."""
    if isinstance(thing, bytes | str):
        return OVERHEAD + len(thing)
    if isinstance(thing, tuple):
        return OVERHEAD + sum(weight(part) for part in thing)
    body = getattr(thing, "body", None)
    if isinstance(body, bytes):
        return weight(body) + weight(getattr(thing, "headers", ()))
    return OVERHEAD


class AnswerCache:
    """One process's remembered answers, least recently used first, within the budget."""

    def __init__(
        self, max_bytes: int = DEFAULT_ANSWER_CACHE_BYTES, max_answers: int = MAX_ANSWERS
    ) -> None:
        self.max_bytes = max_bytes
        self.max_answers = max_answers
        self.largest = max_bytes // LARGEST_SHARE
        self.size = 0  # the weight of every answer kept
        self._answers: OrderedDict[tuple[Memo, object], tuple[object, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._answers)

    def memo(self) -> Memo:
        """A memo (one view's) that keeps its answers here."""
        return Memo(self)

    def get(self, memo: Memo, question: object) -> object | None:
        entry = self._answers.get((memo, question))
        if entry is None:
            return None
        self._answers.move_to_end((memo, question))
        return entry[0]

    def put(self, memo: Memo, question: object, answer: object) -> None:
        self._drop(memo, question)
        size = weight(question) + weight(answer)
        if size > self.largest:
            return
        self._answers[memo, question] = (answer, size)
        memo.questions.add(question)
        self.size += size
        while self.size > self.max_bytes or len(self._answers) > self.max_answers:
            (oldest_memo, oldest_question), (_, oldest_size) = self._answers.popitem(last=False)
            oldest_memo.questions.discard(oldest_question)
            self.size -= oldest_size

    def _drop(self, memo: Memo, question: object) -> None:
        entry = self._answers.pop((memo, question), None)
        if entry is not None:
            memo.questions.discard(question)
            self.size -= entry[1]

    def forget(self, memo: Memo) -> None:
        """Every answer of `memo` (its view moved)."""
        for question in list(memo.questions):
            self._drop(memo, question)


class Memo:
    """One view's answers at its position, kept in the process's `AnswerCache`.

    Compared by identity: two views' memos never share an answer."""

    __slots__ = ("cache", "questions")

    def __init__(self, cache: AnswerCache) -> None:
        self.cache = cache
        self.questions: set[object] = set()

    def get(self, question: object) -> object | None:
        return self.cache.get(self, question)

    def put(self, question: object, answer: object) -> None:
        self.cache.put(self, question, answer)

    def clear(self) -> None:
        self.cache.forget(self)
