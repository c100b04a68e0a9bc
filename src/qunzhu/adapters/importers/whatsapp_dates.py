"""Day-first or month-first, and the clock, decided per file from what the file shows.

A WhatsApp export writes dates in the phone's locale with nothing saying which: 5/1/24 is
May 1st in Manila and January 5th in Mumbai. The evidence, strongest first:

1. a four-digit first number: the year comes first (``ymd``);
2. a number above 12: it is the day (lines that say the opposite are impossible dates,
   quarantined one by one);
3. attachment names carry the date in a fixed order (``IMG-20241207-WA0001.jpg``,
   ``00000042-PHOTO-2024-12-07-…``): the reading that matches them;
4. within one year months only go up: the number that goes back is the day;
5. between consecutive lines days change more often than months;
6. the locale: dates written with dots, and exports in German, Spanish or French, are
   day-first.

The whole file is read for it, unless thousands of lines agree with none against (then the
rest could not change the decision, and a large export is not read twice).

When none of these tells, the import stops and asks for ``--date-order``: a guess would
spread a five-day chat over four months, and nobody would notice. The decision and its
reason go into the import's summary.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from qunzhu.adapters.importers.whatsapp_lines import Header
from qunzhu.adapters.importers.whatsapp_words import DAY_FIRST_LANGUAGES

ORDERS = ("dmy", "mdy", "ymd")
# dated lines that all agree, with none against, after which the rest of a file is not read
# for evidence (a large export would be read twice for nothing)
ENOUGH = 2000
_NAMES = {"dmy": "day-first (dmy)", "mdy": "month-first (mdy)", "ymd": "year-first (ymd)"}


class Undecided(ValueError):
    """The file cannot tell its date order; the message says what was looked at."""


@dataclass(frozen=True)
class Decision:
    order: str  # "dmy", "mdy" or "ymd"
    shape: tuple[object, ...] | None  # the header shape of the file; None when it has none
    why: str


@dataclass
class Evidence:
    """What one header shape's lines show about the date order (see the module's list)."""

    headers: int = 0
    year_first: int = 0
    big_first: int = 0  # lines whose first number is above 12
    big_second: int = 0
    twelve_hour: int = 0  # lines with AM/PM
    file_dates: Counter[str] = field(default_factory=Counter)  # order -> attachment names
    falls: list[int] = field(default_factory=lambda: [0, 0])  # first, second went back
    changes: list[int] = field(default_factory=lambda: [0, 0])
    equal: bool = True  # every date so far has day == month: the order changes nothing
    languages: Counter[str] = field(default_factory=Counter)
    dots: bool = False
    last: tuple[int, int, int] | None = None
    read_until: int = 0  # the line reading stopped at, once the evidence was overwhelming

    def overwhelming(self) -> bool:
        """Whether the rest of a large file cannot change the decision (it is not read)."""
        if self.year_first >= ENOUGH:
            return self.year_first == self.headers
        return min(self.big_first, self.big_second) == 0 and (
            max(self.big_first, self.big_second) >= ENOUGH
        )

    def see(self, h: Header, file_date: tuple[int, int, int] | None) -> None:
        self.headers += 1
        self.twelve_hour += bool(h.meridiem)
        if h.year_first:
            self.year_first += 1
            return
        a, b, year = h.first, h.second, h.third
        self.big_first += a > 12
        self.big_second += b > 12
        self.equal &= a == b
        self.dots |= str(h.shape[1]).startswith(".")
        if file_date is not None:
            y, m, d = file_date
            if y % 100 == year % 100 and (d, m) != (m, d):
                if (a, b) == (d, m):
                    self.file_dates["dmy"] += 1
                elif (a, b) == (m, d):
                    self.file_dates["mdy"] += 1
        now = (a, b, year)
        if self.last is not None and self.last != now and self.last[2] == year:
            for i in (0, 1):
                self.changes[i] += now[i] != self.last[i]
                self.falls[i] += now[i] < self.last[i]
        self.last = now

    def decide(self, shape: tuple[object, ...], given: str | None) -> Decision:
        clock = (
            f"12-hour clock ({self.twelve_hour} lines with AM/PM)"
            if self.twelve_hour
            else "24-hour clock"
        )
        if given is not None:
            return Decision(given, shape, f"{_NAMES[given]}: given with --date-order; {clock}")
        order, why = self._order()
        if self.read_until:
            why += f" (decided at line {self.read_until:,}: the rest cannot change it)"
        return Decision(order, shape, f"{_NAMES[order]}: {why}; {clock}")

    def _order(self) -> tuple[str, str]:
        if self.year_first * 2 > self.headers:
            return "ymd", "the year comes first (four digits)"
        first, second = self.big_first, self.big_second
        if first or second:
            order = "dmy" if first >= second else "mdy"
            place = "first" if order == "dmy" else "second"
            why = f"{max(first, second)} lines have a day above 12 in the {place} place"
            if min(first, second):
                why += f" ({min(first, second)} lines say otherwise: impossible dates)"
            return order, why
        dmy, mdy = self.file_dates["dmy"], self.file_dates["mdy"]
        if dmy != mdy:
            order = "dmy" if dmy > mdy else "mdy"
            return order, (
                f"{max(dmy, mdy)} attachment names (IMG-YYYYMMDD…) carry the same date in this "
                f"reading, {min(dmy, mdy)} in the other"
            )
        if self.falls[0] and not self.falls[1]:
            return "dmy", (
                f"the first number goes back {self.falls[0]} times within a year, the second "
                "never (months only go up)"
            )
        if self.falls[1] and not self.falls[0]:
            return "mdy", (
                f"the second number goes back {self.falls[1]} times within a year, the first "
                "never (months only go up)"
            )
        one, two = self.changes
        if max(one, two) >= 2 and max(one, two) >= 2 * min(one, two):
            order = "dmy" if one > two else "mdy"
            return order, (
                f"the first number changes {one} times between lines, the second {two} times "
                "(days change faster than months)"
            )
        if self.dots:
            return "dmy", "dates written with dots are day-first in every locale that uses them"
        spoken = [code for code, _ in self.languages.most_common() if code != "en"]
        if spoken and spoken[0] in DAY_FIRST_LANGUAGES:
            return "dmy", f"the export is in a day-first language ({spoken[0]})"
        if self.equal and self.headers:
            return "dmy", "every date has day = month, so the order changes nothing"
        raise Undecided(
            f"cannot tell day-first from month-first: {self.headers} dated lines, no day "
            "above 12, no dated attachment names, and the dates do not change enough to "
            "tell; run again with --date-order dmy (31/12/24) or --date-order mdy (12/31/24)"
        )


def decide(found: dict[tuple[object, ...], Evidence], given: str | None) -> Decision:
    """The decision for the file's own header shape: the one most of its lines have."""
    if not found:
        return Decision(given or "dmy", None, "no dated lines")
    shape, evidence = max(found.items(), key=lambda item: item[1].headers)
    return evidence.decide(shape, given)
