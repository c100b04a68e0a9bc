"""Day/month order from the evidence in the file (importers/whatsapp_dates.py), each kind of
evidence alone, and what the summary says about it."""

from __future__ import annotations

from pathlib import Path

import pytest

from qunzhu.adapters.importers import ImportFormatError, whatsapp_txt
from qunzhu.adapters.importers.common import Rejected
from qunzhu.adapters.importers.whatsapp_lines import PROBE, header


def _decided(tmp_path: Path, text: str, given: str | None = None) -> tuple[str, str]:
    path = tmp_path / "chat.txt"
    path.write_text(text, encoding="utf-8")
    decision = whatsapp_txt.decision(path, given)
    return decision.order, decision.why


def test_the_number_that_goes_back_within_a_year_is_the_day(tmp_path):
    # 11 Nov, 1 Dec, 2 Dec: the first number falls once while the second only rises
    text = "11/11/24, 10:00 - A: x\n1/12/24, 10:00 - B: y\n2/12/24, 10:00 - A: z\n"
    order, why = _decided(tmp_path, text)
    assert order == "dmy" and "first number goes back 1 times within a year" in why
    # 11 Nov, then 1 Dec written month first: now the second number falls
    order, why = _decided(tmp_path, "11/11/24, 10:00 - A: x\n12/1/24, 10:00 - B: y\n")
    assert order == "mdy" and "second number goes back 1 times within a year" in why


def test_lines_that_contradict_the_majority_are_impossible_dates(tmp_path, parsed):
    text = "".join(f"{d}/1/24, 10:00 - A: m{d}\n" for d in (13, 14, 15)) + "1/13/24, 10:00 - B: x\n"
    order, why = _decided(tmp_path, text)
    assert (
        order == "dmy" and "3 lines have a day above 12" in why and "1 lines say otherwise" in why
    )
    items = parsed(tmp_path / "chat.txt", "whatsapp-txt")
    (reject,) = [i for i in items if isinstance(i, Rejected)]
    assert reject.line == 4 and "impossible date" in reject.reason


def test_a_file_whose_dates_read_the_same_either_way_needs_no_order(tmp_path):
    order, why = _decided(tmp_path, "5/5/24, 10:00 - A: x\n5/5/24, 11:00 - B: y\n")
    assert order == "dmy" and "changes nothing" in why


def test_a_file_that_cannot_tell_raises_asking_for_the_order(tmp_path):
    with pytest.raises(ImportFormatError, match=r"chat\.txt: cannot tell .*--date-order mdy"):
        _decided(tmp_path, "5/1/24, 10:00 - A: x\n")
    assert _decided(tmp_path, "5/1/24, 10:00 - A: x\n", "mdy")[0] == "mdy"


def test_a_line_of_another_shape_inside_a_message_is_its_text(tmp_path, parsed, messages_of):
    path = tmp_path / "chat.txt"
    path.write_text(
        "13/06/2024, 10:00 - A: minutes of the meeting\n12.5.2024 10:00 - what we said then\n"
        "13/06/2024, 10:05 - B: thanks\n",
        encoding="utf-8",
    )
    msgs = messages_of(parsed(path, "whatsapp-txt"))
    assert [m.text for m in msgs] == [
        "minutes of the meeting\n12.5.2024 10:00 - what we said then",
        "thanks",
    ]


@pytest.mark.parametrize(
    "line",
    ["\ufeff\u200e[13/06/2018, 9:25:15\u202fPM] A: \u200eimage omitted",
     "13/06/2018, 9:25\u00a0pm - A: x", "[3/6/18 1:55:00 p. m.] A: x"],
)  # fmt: skip
def test_invisible_marks_and_odd_spaces_do_not_hide_a_header(line):
    found = header(line.lstrip("\ufeff").translate(PROBE))
    assert found is not None and found.meridiem == "p"


def test_detection_reads_past_a_long_first_message_and_a_bom(tmp_path):
    rules = "\n".join(f"rule {i}" for i in range(60))
    text = f"\ufeff13/06/2024, 10:00 - A: {rules}\n" + "13/06/2024, 10:05 - B: ok\n" * 3
    assert whatsapp_txt.sniff(text.encode("utf-8"))
    assert not whatsapp_txt.sniff(b"just notes\nnothing dated\n")
    # a short chat: one long post and one answer
    assert whatsapp_txt.sniff(f"13/06/2024, 10:00 - A: {rules}\n13/06/2024, 10:05 - B: ok\n")


def test_a_dated_irc_log_is_not_taken_for_whatsapp():
    log = "[2024-01-01 10:00:00] <ann> hi: there\n[2024-01-01 10:00:05] * bo waves\n" * 3
    assert not whatsapp_txt.sniff(log.encode())
