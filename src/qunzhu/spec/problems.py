"""What the loader reports when a spec cannot be used: every problem, each with where."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SpecProblem:
    """One problem in a spec file.

    ``path`` names the field as ``size.cap`` or ``tiers[1].promote.min_value`` ("" for the
    file as a whole); ``line`` and ``column`` are 1-based. ``message`` is English;
    ``message_zh`` is the Chinese text where we have one, else "".
    """

    path: str
    line: int
    column: int
    message: str
    message_zh: str = ""

    def text(self, lang: str = "en") -> str:
        if lang.lower().startswith("zh") and self.message_zh:
            return self.message_zh
        return self.message

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}"
        return f"{self.path or '(file)'} ({where}): {self.message}"


class SpecError(ValueError):
    """The spec did not load. ``problems`` lists them all, in file order."""

    def __init__(self, problems: list[SpecProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.line, p.column, p.path))
        super().__init__(self._summary())

    def _summary(self) -> str:
        if not self.problems:
            return "the spec did not load"
        first = str(self.problems[0])
        more = len(self.problems) - 1
        return first if not more else f"{first} (and {more} more problem{'s' * (more > 1)})"
