"""Question detection (``qunzhu.engines.features``: what counts as a question, and so as
unanswered) on the labelled sample of tests/engines/question_sample.py.

The sample: real #ubuntu IRC lines and real Chinese Telegram chat, by reference (file and
line or row, label) and read from the data directory, and lines in the style of the sample
community written by us. Lines were drawn so that about half are ones the detector of the
time called questions: a sample that stresses precision. Four parts (see the sample's
module): ``tuned`` (what the detector was tuned on), ``held_out`` (the other half of the
first batch: its kinds of error were looked at once), ``fresh`` (a second batch, labelled
blind, measured at 0.900 precision and then tuned on) and ``blind`` (a third batch from
other sessions and rows, labelled blind after all tuning and never tuned on): ``blind`` is
the honest figure.

Printed: precision and recall with their 95% bootstrap intervals (IRC resampled by session
file, the rest by line) per part, per source and overall, beside the target (precision
>= 0.9).

unanswered (``--skip-unanswered`` leaves it out): the annotated stretches of the held-out
#ubuntu sessions (those the reply model did not learn from) go through the IRC importer,
the pipeline and the value scorer, which stores each question and whether another member
answered it. Ground truth from the human reply links: a question is answered when a line
of another member replies to the asker's question line or one of the asker's next lines
(the asker's lines among the following 30). Figures: how many questions, the share the
engine calls unanswered beside the true share, and the precision and recall of
"unanswered" (what Today's list and the health check count) with 95% intervals
(resampling sessions). Questions too near the end of an annotated stretch to have an
answer judged are left out.

`python bench/bench_questions.py --out bench/results/questions.json [--data ../shared/data]`
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import defaultdict
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlalchemy import select

from qunzhu.adapters.importers import irc
from qunzhu.engines.features import text_features
from qunzhu.engines.reactor import ValueScorer
from qunzhu.engines.replytrain import held_out
from qunzhu.moderation.confidence import intervals
from qunzhu.pipeline import Pipeline
from qunzhu.settings import load_settings
from qunzhu.store.intelligence import Question
from qunzhu.store.migrate import upgrade
from qunzhu.store.models import Base, Group, Message
from qunzhu.store.session import Store

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
TARGET_PRECISION = 0.9
FOLLOW_UP_LINES = 30  # the asker's lines after the question that an answer may reply to
JUDGED_AFTER = 40  # lines of annotation a question needs after it to be judged
_NICK = re.compile(r"\[\d{1,2}:\d{2}(?::\d{2})?\] <([^>]+)>")

sys.path.insert(0, str(ROOT / "tests" / "engines"))
from question_sample import Item, load_sample  # noqa: E402  (the sample lives with the tests)


def _figures(items: list[Item]) -> dict[str, Any]:
    labels = [i.question for i in items]
    said = [text_features(i.text).question for i in items]
    tp = sum(1 for y, p in zip(labels, said, strict=True) if y and p)
    fp = sum(1 for y, p in zip(labels, said, strict=True) if p and not y)
    fn = sum(1 for y, p in zip(labels, said, strict=True) if y and not p)
    groups = [i.ref.rsplit(":", 1)[0] if i.source == "irc" else i.ref for i in items]
    ci = intervals(labels, said, groups=groups)
    return {
        "n": len(items),
        "questions": sum(labels),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": round(tp / max(tp + fp, 1), 4),
        "recall": round(tp / max(tp + fn, 1), 4),
        "ci95": {"precision": ci["precision"], "recall": ci["recall"]},
    }


def run(data: Path) -> dict[str, Any]:
    items = load_sample(data)
    result: dict[str, Any] = {
        "benchmark": "questions",
        "data": data.is_dir(),
        "target_precision": TARGET_PRECISION,
        "all": _figures(items),
    }
    for part in ("tuned", "held_out", "fresh", "blind"):
        chosen = [i for i in items if i.part == part]
        if chosen:
            result[part] = _figures(chosen)
    for source in ("irc", "zh-telegram", "own"):
        part = [i for i in items if i.source == source]
        if part:
            result[source] = _figures(part)
    return result


def _annotated(data: Path) -> list[tuple[Path, list[tuple[int, int]], int, int]]:
    """Held-out sessions: (raw file, (reply line, line replied to) pairs, first, last line
    judged)."""
    out = []
    for ann in sorted((data / "irc" / "ubuntu").glob("*.annotation.txt")):
        name = ann.name.removesuffix(".annotation.txt")
        if not held_out(name):
            continue
        pairs, judged = [], set()
        for line in ann.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
                a, b = int(parts[0]), int(parts[1])
                judged.add(max(a, b))
                if a != b:
                    pairs.append((max(a, b), min(a, b)))
        if pairs:
            out.append((ann.with_name(f"{name}.raw.txt"), pairs, min(judged), max(judged)))
    return out


def unanswered(data: Path) -> dict[str, Any]:
    sessions = _annotated(data)
    events: list[Any] = []
    line_of: dict[tuple[str, str], int] = {}
    author: dict[tuple[str, int], str] = {}
    for raw, _, lo, hi in sessions:
        group = raw.name.removesuffix(".raw.txt")
        lines = raw.read_bytes().splitlines()
        for n, line in enumerate(lines):
            found = _NICK.match(line.decode("utf-8", "replace"))
            if found:
                author[(group, n)] = found[1].lower()
        numbered = ((n + 1, b) for n, b in enumerate(lines) if lo <= n <= hi)
        for number, item in irc.parse_lines(raw, numbered, community="irc", group=group, tz=UTC):
            if isinstance(item, irc.ev.MessagePosted):
                line_of[(group, item.message_id)] = number - 1
                events.append(item)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            database_url=f"sqlite:///{tmp}/q.db", secret_key="b" * 40, sample_data=False
        )
        store = Store(settings)
        upgrade(store.engine)
        Base.metadata.create_all(store.engine)
        Pipeline(store, create_communities=True, reactors=[ValueScorer(UTC)]).run(
            events, source="bench"
        )
        with store.engine.connect() as conn:
            asked = conn.execute(
                select(Group.platform_group_id, Message.platform_message_id, Question.answered_at)
                .join(Message, Message.id == Question.message_id)
                .join(Group, Group.id == Question.group_id)
            ).all()
        store.dispose()
    replied: dict[str, dict[int, set[int]]] = {}
    for raw, pairs, _, _ in sessions:
        group = raw.name.removesuffix(".raw.txt")
        by_target: dict[int, set[int]] = defaultdict(set)
        for reply, target in pairs:
            by_target[target].add(reply)
        replied[group] = by_target
    last = {raw.name.removesuffix(".raw.txt"): hi for raw, _, _, hi in sessions}
    labels, said, groups = [], [], []
    for group, message_id, answered_at in asked:
        i = line_of.get((group, message_id))
        if i is None or i + JUDGED_AFTER > last[group]:
            continue
        nick = author.get((group, i))
        if nick is None:  # an action line ("* nick waves"): not in the annotation's terms
            continue
        own = [k for k in range(i, i + FOLLOW_UP_LINES) if author.get((group, k)) == nick]
        gold = any(
            author.get((group, r)) not in (None, nick) for k in own for r in replied[group][k]
        )
        labels.append(not gold)  # the figure is about "unanswered"
        said.append(answered_at is None)
        groups.append(group)
    tp = sum(1 for y, p in zip(labels, said, strict=True) if y and p)
    fp = sum(1 for y, p in zip(labels, said, strict=True) if p and not y)
    fn = sum(1 for y, p in zip(labels, said, strict=True) if y and not p)
    ci = intervals(labels, said, groups=groups)
    return {
        "sessions": len(sessions),
        "questions": len(labels),
        "unanswered_true": sum(labels),
        "unanswered_said": sum(said),
        "precision": round(tp / max(tp + fp, 1), 4),
        "recall": round(tp / max(tp + fn, 1), 4),
        "ci95": {"precision": ci["precision"], "recall": ci["recall"]},
    }


def _print(result: dict[str, Any]) -> None:
    print(f"question detection (target precision >= {result['target_precision']})")
    print(f"{'set':<15}{'n':>5}{'q':>5}  {'precision (95% CI)':<26}{'recall (95% CI)':<26}")
    for name in ("all", "tuned", "held_out", "fresh", "blind", "irc", "zh-telegram", "own"):
        d = result.get(name)
        if d is None:
            continue
        p, r = d["ci95"]["precision"], d["ci95"]["recall"]
        print(
            f"{name:<15}{d['n']:>5}{d['questions']:>5}  "
            f"{d['precision']:.3f} ({p[0]:.3f}–{p[1]:.3f})".ljust(26 + 27)
            + f"{d['recall']:.3f} ({r[0]:.3f}–{r[1]:.3f})"
        )
    u = result.get("unanswered")
    if u and "skipped" not in u:
        p, r = u["ci95"]["precision"], u["ci95"]["recall"]
        print(
            f"unanswered on {u['sessions']} held-out annotated #ubuntu sessions: "
            f"{u['unanswered_said']} of {u['questions']} questions said unanswered "
            f"(truly {u['unanswered_true']}); precision {u['precision']:.3f} "
            f"({p[0]:.3f}–{p[1]:.3f}), recall {u['recall']:.3f} ({r[0]:.3f}–{r[1]:.3f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--quick", action="store_true", help="the same run")
    parser.add_argument("--data", type=Path, default=DATA, help=f"data directory (default {DATA})")
    parser.add_argument("--skip-unanswered", action="store_true")
    args = parser.parse_args()
    result = run(args.data)
    if args.skip_unanswered or not (args.data / "irc" / "ubuntu").is_dir():
        result["unanswered"] = {"skipped": "--skip-unanswered or no IRC data"}
    else:
        result["unanswered"] = unanswered(args.data)
    _print(result)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
