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
file, the rest by line) per half, per source and overall, beside the target (precision
>= 0.9).

`python bench/bench_questions.py --out bench/results/questions.json [--data ../shared/data]`
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from qunzhu.engines.features import text_features
from qunzhu.moderation.confidence import intervals

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
TARGET_PRECISION = 0.9

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--quick", action="store_true", help="the same run (it takes a second)")
    parser.add_argument("--data", type=Path, default=DATA, help=f"data directory (default {DATA})")
    args = parser.parse_args()
    result = run(args.data)
    _print(result)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
