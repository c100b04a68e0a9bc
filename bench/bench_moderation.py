"""Moderation quality and speed, each figure beside its floor measured in the same run.

Quality, on held-out data the shipped model never saw (splits printed in the output):

- F1 of the ``spam`` verdict (classifier + content detectors, default rules) on the
  Chinese Telegram test split and on the English SMS test split; the classifier alone
  beside it;
- false-positive rate on the IRC sessions of the test half (real chat, all normal);
- F1 again after the synthetic evasion transform (qunzhu.moderation.evasion: two tricks
  per message, applied to every test message, spam and normal) and the drop in points.

Speed, on one core:

- batch throughput of the detection path (normalize → detectors → classifier → decide)
  in messages/s, beside the floors: normalization alone, and a bare scan of the raw text
  with one regular expression;
- p50/p99 latency of one message through the same path (``Inspector.check``), beside the
  p99 of normalizing it alone.

`python bench/bench_moderation.py --out bench/results/moderation.json [--quick]`
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qunzhu.moderation.corpus import EN, SPLITS, ZH, irc_lines, split
from qunzhu.moderation.evaluate import score_verdicts, verdicts
from qunzhu.moderation.evasion import evade
from qunzhu.moderation.inspect import Inspector
from qunzhu.moderation.labelled import Example, read_labelled
from qunzhu.moderation.normalize import normalize

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
TARGETS = {
    "f1": 0.95,
    "irc_fpr": 0.005,
    "evasion_drop_points": 3.0,
    "throughput": 20_000,
    "p99_ms": 2.0,
}
_BARE = re.compile(r"(?:https?://|www\.)\S+|1[3-9]\d{9}|微信|qq", re.IGNORECASE)


def _quality(inspector: Inspector, name: str, test: list[Example]) -> dict[str, Any]:
    labels = [e.spam for e in test]
    texts = [e.text for e in test]
    full = score_verdicts(labels, verdicts(inspector, texts))
    compact = [normalize(t).compact for t in texts]
    scores = inspector.model.scores(compact)
    model = inspector.model
    alone = score_verdicts(
        labels, [bool(s >= model.spam_threshold(c)) for s, c in zip(scores, compact, strict=True)]
    )
    rng = random.Random(2024)
    evaded = [evade(t, rng) for t in texts]
    after = score_verdicts(labels, verdicts(inspector, evaded))
    return {
        "set": name,
        "n": full.n,
        "spam": sum(labels),
        "f1": round(full.f1, 4),
        "precision": round(full.precision, 4),
        "recall": round(full.recall, 4),
        "fpr": round(full.fpr, 4),
        "classifier_only_f1": round(alone.f1, 4),
        "evaded_f1": round(after.f1, 4),
        "evasion_drop_points": round((full.f1 - after.f1) * 100, 2),
    }


def _rate(action: Callable[[], object], count: int) -> tuple[float, float]:
    """(messages per wall second, messages per CPU second of this process): on a shared
    machine the second shows what one core does when it is ours."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return count / (time.perf_counter() - wall), count / max(time.process_time() - cpu, 1e-9)


def _quantiles(samples: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(samples, n=100)
    return round(q[49] * 1000, 3), round(q[98] * 1000, 3)


def _speed(inspector: Inspector, texts: list[str], single: int) -> dict[str, Any]:
    verdicts(inspector, texts[:200])  # warm caches: fold table, automaton, model pages
    full, full_cpu = _rate(lambda: verdicts(inspector, texts), len(texts))
    norm, norm_cpu = _rate(lambda: [normalize(t) for t in texts], len(texts))
    bare, bare_cpu = _rate(lambda: [_BARE.search(t) for t in texts], len(texts))
    one: dict[str, list[float]] = {"wall": [], "cpu": [], "norm_wall": [], "norm_cpu": []}
    for t in texts[:single]:
        wall, cpu = time.perf_counter(), time.process_time()
        inspector.check(t)
        one["wall"].append(time.perf_counter() - wall)
        one["cpu"].append(time.process_time() - cpu)
        wall, cpu = time.perf_counter(), time.process_time()
        normalize(t)
        one["norm_wall"].append(time.perf_counter() - wall)
        one["norm_cpu"].append(time.process_time() - cpu)
    p50, p99 = _quantiles(one["wall"])
    cpu50, cpu99 = _quantiles(one["cpu"])
    return {
        "messages": len(texts),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "throughput_msgs_per_s": round(full),
        "floor_normalize_only_msgs_per_s": round(norm),
        "floor_bare_regex_msgs_per_s": round(bare),
        "cpu_throughput_msgs_per_s": round(full_cpu),
        "cpu_floor_normalize_only_msgs_per_s": round(norm_cpu),
        "cpu_floor_bare_regex_msgs_per_s": round(bare_cpu),
        "single_messages": single,
        "p50_ms": p50,
        "p99_ms": p99,
        "floor_normalize_p99_ms": _quantiles(one["norm_wall"])[1],
        "cpu_p50_ms": cpu50,
        "cpu_p99_ms": cpu99,
        "cpu_floor_normalize_p99_ms": _quantiles(one["norm_cpu"])[1],
    }


def run(quick: bool) -> dict[str, Any]:
    inspector = Inspector()
    _, zh_test = split(read_labelled(DATA / ZH))
    _, en_test = split(read_labelled(DATA / EN))
    irc = list(irc_lines(DATA, test=True))
    if quick:
        zh_test, en_test, irc = zh_test[:1000], en_test[:400], irc[:10000]
    quality = [
        _quality(inspector, "zh-telegram (test split)", zh_test),
        _quality(inspector, "en-sms (test split)", en_test),
    ]
    flagged = sum(verdicts(inspector, irc))
    mixed = [e.text for e in zh_test] + [e.text for e in en_test] + irc[: len(zh_test)]
    random.Random(5).shuffle(mixed)
    speed = _speed(inspector, mixed, 500 if quick else 3000)
    return {
        "benchmark": "moderation",
        "quick": quick,
        "splits": SPLITS,
        "model": inspector.model.about,
        "quality": quality,
        "irc": {
            "messages": len(irc),
            "false_positives": flagged,
            "fpr": round(flagged / max(len(irc), 1), 5),
        },
        "speed": speed,
        "targets": TARGETS,
    }


def _print(result: dict[str, Any]) -> None:
    print("split  n  F1 (classifier only)  precision  recall  F1 after evasion (drop)")
    for q in result["quality"]:
        print(
            f"{q['set']:<26} {q['n']:>6} {q['f1']:.4f} ({q['classifier_only_f1']:.4f})  "
            f"{q['precision']:.4f}  {q['recall']:.4f}  {q['evaded_f1']:.4f} "
            f"({q['evasion_drop_points']:+.2f} points)"
        )
    irc = result["irc"]
    print(
        f"IRC false positives: {irc['false_positives']} of {irc['messages']} "
        f"= {irc['fpr'] * 100:.3f}%"
    )
    s = result["speed"]
    print(
        f"throughput {s['throughput_msgs_per_s']:,} msg/s (floor: normalize only "
        f"{s['floor_normalize_only_msgs_per_s']:,}, "
        f"bare regex {s['floor_bare_regex_msgs_per_s']:,})"
    )
    print(
        f"single message p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms "
        f"(floor: normalize p99 {s['floor_normalize_p99_ms']} ms)"
    )
    print(
        f"CPU time of this process (load average {s['load_average_1min']}): "
        f"{s['cpu_throughput_msgs_per_s']:,} msg/s (floor: normalize only "
        f"{s['cpu_floor_normalize_only_msgs_per_s']:,}, bare regex "
        f"{s['cpu_floor_bare_regex_msgs_per_s']:,}); p99 {s['cpu_p99_ms']} ms "
        f"(floor: normalize p99 {s['cpu_floor_normalize_p99_ms']} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"no data at {DATA}: nothing to measure", file=sys.stderr)
        raise SystemExit(0)
    result = run(args.quick)
    _print(result)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
