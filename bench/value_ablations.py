"""Ablations of member value on the IRC quality sets (issue 16, item 5): which parts of value
rank the helpers.

After the quality run has imported and scored a split's held-out sessions with the shipped
weights, each variant is scored again on the same store the way an operator changes weights:
the community's spec gets a ``value:`` section (:class:`~qunzhu.spec.members.ValueWeights`),
then ``reset_scores`` + ``catch_up`` (the scoring part of ``qunzhu recompute --rescore``).
The reply-link variants keep the shipped weights and score with the split's reply model at
another probability threshold (``model_in_use``). Nothing is imported twice.

Each variant's member value is compared with the ground truth (distinct members each member
replied to) by Spearman; its lead over plain message counts and its difference from the
shipped weights come with 95% bootstrap intervals, members resampled 1,000 times with the
same resamples for every variant (paired; the first variant's lead interval is the one the
quality part reports).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC
from typing import Any

import numpy as np
from scipy.stats import spearmanr
from sqlalchemy import update

from qunzhu.engines.catchup import catch_up, reset_scores
from qunzhu.engines.replymodel import default_model, model_in_use
from qunzhu.engines.specs import engine_spec_from_yaml
from qunzhu.spec.members import ValueWeights
from qunzhu.store.base import table_of
from qunzhu.store.community import Community
from qunzhu.store.session import Store

_POINTS = [k for k, f in ValueWeights.model_fields.items() if f.annotation is float]
_ONLY_HELPED: dict[str, float | str] = {
    **{k: 0.0 for k in _POINTS if k not in ("helped_per_member", "half_life_days")},
    "filler_penalty": 1.0,  # filler keeps nothing (else it keeps a minimal point)
    "duplicate_penalty": 1.0,
}

# (name, what it is, weight overrides in the spec's value section, reply-link threshold)
VARIANTS: tuple[tuple[str, str, dict[str, float | str], float | None], ...] = (
    ("shipped", "the shipped weights", {}, None),
    ("no_answer", "answer = 0 (no credit for answering an asker)", {"answer": 0.0}, None),
    (
        "no_helped",
        "helped_per_member = 0 (no credit per distinct member replied to)",
        {"helped_per_member": 0.0},
        None,
    ),
    (
        "no_reply_earned",
        "reply_earned_per_member = 0 (no credit for replies received)",
        {"reply_earned_per_member": 0.0},
        None,
    ),
    ("no_substance", "substance = 0 (no credit for words)", {"substance": 0.0}, None),
    ("no_question", "question = 0", {"question": 0.0}, None),
    (
        "no_code_link_file",
        "code = link = file = 0",
        {"code": 0.0, "link": 0.0, "file": 0.0},
        None,
    ),
    (
        "no_penalties",
        "filler_penalty = duplicate_penalty = 0 (filler worth a minimal point)",
        {"filler_penalty": 0.0, "duplicate_penalty": 0.0},
        None,
    ),
    (
        "helped_x2",
        "helped_per_member = 3.0 (twice the shipped 1.5; the rest as shipped)",
        {"helped_per_member": 3.0},
        None,
    ),
    (
        "only_helped",
        "reference: value = helped credit only (distinct members replied to per day)",
        _ONLY_HELPED,
        None,
    ),
    (
        "probability_credit",
        "reply_credit = probability: an inferred link's answer, helped and reply-earned "
        "credit times its probability",
        {"reply_credit": "probability"},
        None,
    ),
    (
        "probability_credit_p_ge_0.05",
        "reply_credit = probability, links inferred at p >= 0.05",
        {"reply_credit": "probability"},
        0.05,
    ),
    ("links_p_ge_0.10", "shipped weights; reply links inferred at p >= 0.10", {}, 0.10),
    ("links_p_ge_0.30", "shipped weights; reply links inferred at p >= 0.30", {}, 0.30),
    (
        "no_inferred_links",
        "shipped weights; no model links (importer's addressing and quiet answers only)",
        {},
        0.999,
    ),
)


def spec_yaml(overrides: Mapping[str, float | str]) -> str:
    """A minimal community spec whose value section carries ``overrides``."""
    body = ", ".join(f"{k}: {v}" for k, v in overrides.items())
    text = f"name: bench\npurpose: value ablation\nvalue: {{{body}}}\n"
    spec = engine_spec_from_yaml(text)
    want = ValueWeights(**overrides)
    if spec.source != "spec" or spec.weights != want:  # never measure the defaults by mistake
        raise ValueError(f"ablation spec did not load as written: {text!r} ({spec.source})")
    return text


def rescore(store: Store, community_id: int, text: str) -> float:
    """Score the community again with the spec ``text``; the seconds it took."""
    started = time.perf_counter()
    communities = table_of(Community)
    with store.engine.begin() as conn:
        conn.execute(
            update(communities).where(communities.c.id == community_id).values(spec_yaml=text)
        )
        reset_scores(conn, community_id)
        catch_up(conn, community_id, UTC)
    return time.perf_counter() - started


def _resamples(n: int) -> list[Any]:
    """The bootstrap's member resamples: the same generator and order as the quality
    part's lead interval, so the shipped lead interval is the same figure."""
    rng = np.random.default_rng(7)
    return [rng.integers(0, n, n) for _ in range(1000)]


def _rhos(x: Any, gt: Any, samples: Sequence[Any]) -> Any:
    return np.array([spearmanr(x[k], gt[k]).statistic for k in samples])


def _ci(diffs: Any) -> list[float]:
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return [round(float(lo), 4), round(float(hi), 4)]


def run(
    store: Store,
    community_id: int,
    members: list[str],
    count: Mapping[str, int],
    truth: Mapping[str, int],
    values_now: Callable[[], Mapping[str, float]],
) -> dict[str, Any]:
    """Every variant's figures, by name; ``values_now`` reads each member's value."""
    started = time.perf_counter()
    gt = np.array([truth.get(m, 0) for m in members])
    counts = np.array([count[m] for m in members])
    samples = _resamples(len(members))
    rho_count = float(spearmanr(counts, gt).statistic)
    count_boot = _rhos(counts, gt, samples)
    out: dict[str, Any] = {}
    shipped_boot: Any = None
    shipped_rho = 0.0
    for name, what, overrides, threshold in VARIANTS:
        model = default_model()  # the split's model (model_in_use), at its own threshold
        if threshold is not None:
            model = dataclasses.replace(model, threshold=threshold)
        with model_in_use(model):
            took = rescore(store, community_id, spec_yaml(overrides))
        got = values_now()
        v = np.array([got.get(m, 0.0) for m in members])
        rho = float(spearmanr(v, gt).statistic)
        boot = _rhos(v, gt, samples)
        if shipped_boot is None:
            shipped_boot, shipped_rho = boot, rho
        out[name] = {
            "what": what,
            "weights": dict(overrides),
            "reply_threshold": round(model.threshold, 4),
            "spearman_value": round(rho, 4),
            "value_ahead_by": round(rho - rho_count, 4),
            "value_ahead_by_95ci": _ci(boot - count_boot),
            "vs_shipped": round(rho - shipped_rho, 4),
            "vs_shipped_95ci": _ci(boot - shipped_boot),
            "members_with_value": int((v > 0).sum()),
            "rescore_s": round(took, 2),
        }
    return {
        "measured": (
            "each variant rescored on the same store (spec value section, then reset_scores "
            "+ catch_up, as `qunzhu recompute --rescore`); truth: distinct members each "
            "member replied to; Spearman of summed value; 95% intervals: the same 1,000 "
            "member resamples for every variant"
        ),
        "floor_spearman_message_count": round(rho_count, 4),
        "variants": out,
        "ablations_s": round(time.perf_counter() - started, 1),
    }
