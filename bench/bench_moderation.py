"""Moderation quality and speed, each figure beside its floor measured in the same run.

Quality on held-out data, on two splits (see ``qunzhu.moderation.corpus``; printed in the
output), each figure with its 95% bootstrap confidence interval:

- **grouped** (the honest one, what the shipped model is built on): near-duplicate clusters
  never straddle train and test, IRC chat split by time (the later half of the sessions is
  held out). Measured with the shipped model.
- **random** (the old one): a fifth of the texts by hash, IRC by a hash of the file name.
  Measured with a model trained the same way on the random split's train part (trained in
  this run, so the two columns differ only by the split); ``--skip-random`` leaves it out.

For each labelled set: precision, recall, F1 and false-positive rate of the ``spam`` verdict
(classifier + content detectors, default rules), the classifier alone beside it, and F1
again after the synthetic evasion transform (qunzhu.moderation.evasion: two tricks per
message, applied to every test message) and the drop in points, and once more after
held-out evasions of kinds that module does not make and normalization was not written
against (``bench/unseen_evasion.py``: marks between letters, other scripts' look-alikes,
spaced-out letters, blank filler characters, leet, Chinese numerals, pinyin contact words,
mixed widths), reported as ``evaded_unseen`` with its own drop. For IRC (real chat, all
normal): the false-positive rate, its interval resampling whole sessions. For ordinary
conversation in Chinese (simplified and traditional) and English, the dialogues of the
``chatterbot-corpus`` package (installed with the dev extras; nothing here trains on them):
the false-positive rate, its interval resampling whole dialogues (a dialogue with its copy in
traditional script) — the nearest thing at hand
to the personal messages the issue's 0.3 % target speaks of, though written for a chatbot.

Speed, on one core:

- batch throughput of the detection path as live moderation runs it (normalize → screen →
  classifier → detectors with their evidence → a decision per message; the behaviour
  detectors aside) in messages/s, beside the floors: normalization alone, and a bare scan of
  the raw text with one regular expression; and, apart, of ``qunzhu moderation eval``'s
  verdicts (``evaluate.verdicts``: no evidence, no decision), which run leaner than live
  moderation and so are not the figure the target is read on;
- p50/p99 latency of one message through the same path (``Inspector.check``), beside the
  p99 of normalizing it alone.

Speed is measured in a fresh process (this script again, with ``--speed-only``), as a
deployment runs it: the quality part and the random split's training leave hundreds of
thousands of live objects behind, and every full garbage collection then walks them all
(measured in that same process the path ran at 12,000 msg/s instead of 22,000). Each rate
is the median of ``REPEATS`` rounds, each round measuring the path and its floors back to
back, so a load that comes and goes touches both alike.

`python bench/bench_moderation.py --out bench/results/moderation.json [--quick] [--skip-random]
[--data ../shared/data] [--model candidate.npz] [--speed-only]`
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qunzhu.moderation.classifier import SpamModel, load_model
from qunzhu.moderation.corpus import (
    EN,
    RANDOM_SPLITS,
    SPLITS,
    ZH,
    Split,
    background_chat,
    irc_sessions,
    split,
    training_set,
)
from qunzhu.moderation.decide import Decision, Standing, decide
from qunzhu.moderation.evaluate import BATCH, Scores, score_verdicts, verdicts
from qunzhu.moderation.evasion import evade
from qunzhu.moderation.inspect import MAX_CHARS, Inspector
from qunzhu.moderation.labelled import Example, read_labelled
from qunzhu.moderation.neardup import cluster_key, clusters
from qunzhu.moderation.normalize import normalize
from qunzhu.moderation.training import train

sys.path.insert(0, str(Path(__file__).resolve().parent))
from unseen_evasion import TRICKS as UNSEEN_TRICKS
from unseen_evasion import evade_unseen

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
TARGETS = {
    "f1": 0.95,
    "irc_fpr": 0.003,
    "evasion_drop_points": 2.0,
    "throughput": 20_000,
    "p99_ms": 2.0,
}
REPEATS = 3
_BARE = re.compile(r"(?:https?://|www\.)\S+|1[3-9]\d{9}|微信|qq", re.IGNORECASE)
_IRC_LINE = re.compile(r"^\[\d\d:\d\d\] <[^>]+> (.+)$")


def _figures(scores: Scores) -> dict[str, Any]:
    d = scores.as_dict()
    return {k: d[k] for k in ("precision", "recall", "f1", "fpr", "ci95")}


def _quality(inspector: Inspector, name: str, test: list[Example]) -> dict[str, Any]:
    labels = [e.spam for e in test]
    texts = [e.text for e in test]
    # resample whole near-duplicate clusters: their messages are not independent
    groups = cluster_key(texts, clusters(texts))
    full = score_verdicts(labels, verdicts(inspector, texts), groups=groups)
    norms = [normalize(t) for t in texts]
    compact = [n.compact for n in norms]
    scores = inspector.model.scores_of(norms)
    model = inspector.model
    alone = score_verdicts(
        labels,
        [bool(s >= model.spam_threshold(c)) for s, c in zip(scores, compact, strict=True)],
        groups=groups,
    )
    rng = random.Random(2024)
    evaded = [evade(t, rng) for t in texts]
    after = score_verdicts(labels, verdicts(inspector, evaded), groups=groups)
    rng = random.Random(2025)
    unseen = [evade_unseen(t, rng) for t in texts]
    after_unseen = score_verdicts(labels, verdicts(inspector, unseen), groups=groups)
    return {
        "set": name,
        "n": full.n,
        "spam": sum(labels),
        "clusters": len(set(groups)),
        **_figures(full),
        "classifier_only": _figures(alone),
        "evaded": _figures(after),
        "evasion_drop_points": round((full.f1 - after.f1) * 100, 2),
        "evaded_unseen": _figures(after_unseen),
        "evasion_unseen_drop_points": round((full.f1 - after_unseen.f1) * 100, 2),
    }


def _irc(inspector: Inspector, how: Split, limit: int | None) -> dict[str, Any]:
    texts: list[str] = []
    sessions: list[str] = []
    paths = irc_sessions(DATA, test=True, how=how)
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                found = _IRC_LINE.match(line.rstrip("\n"))
                if found:
                    texts.append(found.group(1))
                    sessions.append(path.name)
    if limit is not None:
        texts, sessions = texts[:limit], sessions[:limit]
    predicted = verdicts(inspector, texts)
    scores = score_verdicts([False] * len(texts), predicted, groups=sessions)
    return {
        "sessions": len(set(sessions)),
        "dates": f"{paths[0].name[:10]} .. {paths[-1].name[:10]}" if paths else "",
        "messages": len(texts),
        "false_positives": scores.fp,
        "fpr": round(scores.fpr, 5),
        "fpr_ci95": list(scores.ci95["fpr"]),
        "examples": [t[:120] for t, p in zip(texts, predicted, strict=True) if p][:15],
    }


_CONVERSATION = {"zh": ("chinese", "traditionalchinese"), "en": ("english",)}


def _dialogues(language: str) -> list[list[str]]:
    """The dialogues of one language of chatterbot-corpus, each line once (first seen)."""
    from importlib import resources

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    seen: set[str] = set()
    out: list[list[str]] = []
    for folder in _CONVERSATION[language]:
        root = resources.files("chatterbot_corpus").joinpath("data", folder)
        for entry in sorted(root.iterdir(), key=lambda e: e.name):
            if not entry.name.endswith(".yml"):
                continue
            for dialogue in yaml.load(entry.read_text(encoding="utf-8")).get("conversations") or []:
                lines = [x.strip() for x in dialogue if isinstance(x, str) and x.strip()]
                lines = [x for x in dict.fromkeys(lines) if x not in seen]
                seen.update(lines)
                if lines:
                    out.append(lines)
    return out


def _conversation(inspector: Inspector) -> dict[str, Any]:
    """False alarms on ordinary dialogue (see the module's notes), per language; empty with
    a reason when chatterbot-corpus is not installed."""
    from importlib.util import find_spec

    if find_spec("chatterbot_corpus") is None:
        return {"skipped": "chatterbot-corpus is not installed (pip install -e '.[dev]')"}
    out: dict[str, Any] = {"source": "chatterbot-corpus (BSD-3), conversations of its data"}
    for language in _CONVERSATION:
        dialogues = _dialogues(language)
        texts = [line for d in dialogues for line in d]
        # a dialogue and its traditional-script copy normalize alike: one group, resampled
        # together
        groups = [normalize(d[0]).compact for d in dialogues for _ in d]
        predicted = verdicts(inspector, texts)
        scores = score_verdicts([False] * len(texts), predicted, groups=groups)
        out[language] = {
            "dialogues": len(dialogues),
            "messages": len(texts),
            "false_positives": scores.fp,
            "fpr": round(scores.fpr, 5),
            "fpr_ci95": list(scores.ci95["fpr"]),
            "examples": [t[:120] for t, p in zip(texts, predicted, strict=True) if p][:15],
        }
    return out


def _split_quality(
    model: SpamModel, how: Split, quick: bool, sets: dict[str, list[Example]]
) -> dict[str, Any]:
    inspector = Inspector(model=model)
    quality = []
    for name, examples in sets.items():
        _, test = split(examples, how)
        if quick:
            test = test[:1000]
        quality.append(_quality(inspector, f"{name} ({how} test split)", test))
    return {
        "splits": SPLITS if how == "grouped" else RANDOM_SPLITS,
        "model": model.about,
        "quality": quality,
        "irc": _irc(inspector, how, 10_000 if quick else None),
        "conversation": _conversation(inspector),
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


def _judged(inspector: Inspector, texts: list[str]) -> list[Decision]:
    """A decision per text with its findings and their evidence, batch by batch, as
    :meth:`Inspector.inspect` makes them for live moderation (without the behaviour
    detectors, which need the members' history)."""
    out: list[Decision] = []
    standing = Standing()
    rules, escalation = inspector.rules, inspector.spec.escalation
    for start in range(0, len(texts), BATCH):
        norms = [normalize(t[:MAX_CHARS]) for t in texts[start : start + BATCH]]
        signs = inspector.screen(norms)
        for norm, score, sign in zip(norms, inspector.scores(norms), signs, strict=True):
            findings = inspector.content(norm, score, newcomer=False, signs=sign)
            out.append(decide(findings, rules, escalation, standing, score=score))
    return out


def _speed(inspector: Inspector, texts: list[str], single: int) -> dict[str, Any]:
    _judged(inspector, texts[:200])  # warm caches: fold table, automaton, model pages
    rounds: dict[str, list[float]] = {}
    for _ in range(REPEATS):
        for name, action in (
            ("full", lambda: _judged(inspector, texts)),
            ("eval", lambda: verdicts(inspector, texts)),
            ("norm", lambda: [normalize(t) for t in texts]),
            ("bare", lambda: [_BARE.search(t) for t in texts]),
        ):
            wall, cpu = _rate(action, len(texts))
            rounds.setdefault(name, []).append(wall)
            rounds.setdefault(f"{name}_cpu", []).append(cpu)
    full, full_cpu, norm, norm_cpu, bare, bare_cpu, lean, lean_cpu = (
        statistics.median(rounds[k])
        for k in ("full", "full_cpu", "norm", "norm_cpu", "bare", "bare_cpu", "eval", "eval_cpu")
    )
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
        "measured_in": f"a fresh process, median of {REPEATS} rounds",
        "messages": len(texts),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "throughput_msgs_per_s": round(full),
        "floor_normalize_only_msgs_per_s": round(norm),
        "floor_bare_regex_msgs_per_s": round(bare),
        "cpu_throughput_msgs_per_s": round(full_cpu),
        "cpu_floor_normalize_only_msgs_per_s": round(norm_cpu),
        "cpu_floor_bare_regex_msgs_per_s": round(bare_cpu),
        "eval_verdicts_msgs_per_s": round(lean),
        "cpu_eval_verdicts_msgs_per_s": round(lean_cpu),
        "single_messages": single,
        "p50_ms": p50,
        "p99_ms": p99,
        "floor_normalize_p99_ms": _quantiles(one["norm_wall"])[1],
        "cpu_p50_ms": cpu50,
        "cpu_p99_ms": cpu99,
        "cpu_floor_normalize_p99_ms": _quantiles(one["norm_cpu"])[1],
    }


def run(quick: bool, skip_random: bool, model: Path | None = None) -> dict[str, Any]:
    sets = {"zh-telegram": read_labelled(DATA / ZH), "en-sms": read_labelled(DATA / EN)}
    shipped = load_model(model)
    result: dict[str, Any] = {
        "benchmark": "moderation",
        "quick": quick,
        "model_file": str(model) if model else "shipped",
        "unseen_evasions": sorted(UNSEEN_TRICKS),
    }
    # speed first, in a process of its own (see the module's notes)
    result["speed"] = _speed_in_fresh_process(quick, model)
    result["grouped"] = _split_quality(shipped, "grouped", quick, sets)
    if not skip_random:
        # the same recipe on the old split's train part: the columns differ only by the split
        old = train(
            training_set(DATA, how="random"),
            about={"trained_on": RANDOM_SPLITS},
            background=background_chat(DATA, how="random"),
        )
        result["random"] = _split_quality(old, "random", quick, sets)
    result["targets"] = TARGETS
    return result


def speed_only(quick: bool, model: Path | None) -> dict[str, Any]:
    """The speed figures alone: the grouped test parts of both labelled sets and as many
    held-out IRC lines, shuffled, through the detection path with ``model``."""
    mixed = [e.text for e in split(read_labelled(DATA / ZH))[1]]
    mixed += [e.text for e in split(read_labelled(DATA / EN))[1]]
    mixed += _irc_sample(len(mixed))
    random.Random(5).shuffle(mixed)
    return _speed(Inspector(model=load_model(model)), mixed, 500 if quick else 3000)


def _speed_in_fresh_process(quick: bool, model: Path | None) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--speed-only", "--data", str(DATA)]
    command += ["--quick"] if quick else []
    command += ["--model", str(model)] if model else []
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    speed: dict[str, Any] = json.loads(done.stdout)
    return speed


def _irc_sample(count: int) -> list[str]:
    out: list[str] = []
    for path in irc_sessions(DATA, test=True):
        with path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                found = _IRC_LINE.match(line.rstrip("\n"))
                if found:
                    out.append(found.group(1))
                    if len(out) >= count:
                        return out
    return out


def _ci(d: dict[str, Any], name: str) -> str:
    low, high = d["ci95"][name]
    return f"{d[name]:.4f} [{low:.4f}, {high:.4f}]"


def _print(result: dict[str, Any]) -> None:
    for how in ("grouped", "random"):
        part = result.get(how)
        if part is None:
            continue
        print(f"== {how} split (95% bootstrap intervals, resampling clusters / sessions)")
        for q in part["quality"]:
            alone, evaded, unseen = q["classifier_only"], q["evaded"], q["evaded_unseen"]
            print(
                f"{q['set']:<34} n={q['n']} ({q['spam']} spam, {q['clusters']} clusters)\n"
                f"  F1 {_ci(q, 'f1')}  precision {_ci(q, 'precision')}  "
                f"recall {_ci(q, 'recall')}  FPR {_ci(q, 'fpr')}\n"
                f"  classifier only F1 {_ci(alone, 'f1')};  after evasion F1 "
                f"{_ci(evaded, 'f1')} ({q['evasion_drop_points']:+.2f} points)\n"
                f"  after held-out evasions (bench/unseen_evasion.py) F1 {_ci(unseen, 'f1')} "
                f"({q['evasion_unseen_drop_points']:+.2f} points)"
            )
        irc = part["irc"]
        low, high = irc["fpr_ci95"]
        print(
            f"IRC held-out ({irc['sessions']} sessions, {irc['dates']}): "
            f"{irc['false_positives']} of {irc['messages']} = {irc['fpr'] * 100:.3f}% "
            f"[{low * 100:.3f}%, {high * 100:.3f}%]"
        )
        talk = part["conversation"]
        if "skipped" in talk:
            print(f"ordinary conversation: skipped, {talk['skipped']}")
        for language in _CONVERSATION:
            if language in talk:
                c = talk[language]
                low, high = c["fpr_ci95"]
                print(
                    f"ordinary conversation, {language} ({c['dialogues']} dialogues): "
                    f"{c['false_positives']} of {c['messages']} = {c['fpr'] * 100:.3f}% "
                    f"[{low * 100:.3f}%, {high * 100:.3f}%]"
                )
    s = result["speed"]
    print(f"speed, {s.get('measured_in', 'in this process')}:")
    print(
        f"throughput {s['throughput_msgs_per_s']:,} msg/s (floor: normalize only "
        f"{s['floor_normalize_only_msgs_per_s']:,}, "
        f"bare regex {s['floor_bare_regex_msgs_per_s']:,}); "
        f"eval verdicts alone {s['eval_verdicts_msgs_per_s']:,} msg/s"
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
    global DATA  # the functions above read the data directory from here
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data", type=Path, default=DATA, help=f"data directory (default {DATA})")
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="measure this model file (default: the shipped one)",
    )
    parser.add_argument(
        "--skip-random", action="store_true", help="leave out the old random split (no training)"
    )
    parser.add_argument(
        "--speed-only",
        action="store_true",
        help="measure speed alone, print it as JSON (what a full run starts a process for)",
    )
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"no data at {args.data}: nothing to measure", file=sys.stderr)
        raise SystemExit(0)
    DATA = args.data
    if args.speed_only:
        print(json.dumps(speed_only(args.quick, args.model)))
        return
    result = run(args.quick, args.skip_random, args.model)
    _print(result)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
