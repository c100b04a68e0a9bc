"""The learned reply-link model: shipped, loaded, explained, retrained from annotations."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qunzhu.cli.main import app
from qunzhu.engines.replymodel import (
    FEATURES,
    MODEL_PATH,
    ReplyModel,
    default_model,
    model_in_use,
)
from qunzhu.engines.replytrain import held_out, held_out_names, read_sessions, train

IRC = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "irc" / "ubuntu"


def test_the_shipped_model_is_numbers_only_and_matches_the_features():
    data = json.loads(MODEL_PATH.read_text())
    assert data["features"] == list(FEATURES)
    assert all(isinstance(w, float | int) for w in data["weights"])
    model = default_model()
    assert 0 < model.threshold < 1
    # naming the candidate's author makes a link more likely; a long silence less
    named = dict(zip(FEATURES, model.weights, strict=True))
    assert named["addressed"] > 0 and named["log_gap"] < 0
    assert data["trained_on"]["held_out"]["precision"] > 0.5


def test_a_model_for_other_features_is_refused(tmp_path):
    data = default_model().to_json()
    data["features"] = [*data["features"][:-1], "channel_is_ubuntu"]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="retrain"):
        ReplyModel.read(path)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="cannot read"):
        ReplyModel.read(path)


def test_explain_names_what_drove_a_link():
    model = default_model()
    feats = tuple(1.0 if n in ("addressed", "author_latest") else 0.0 for n in FEATURES)
    parts = model.explain(feats)
    assert set(parts) == {"addressed", "author_latest"}
    assert model.probability(feats) > model.threshold


def _names_in_both_halves(n: int) -> list[str]:
    """n session names, half of them in the held-out half."""
    names = [f"s{k}" for k in range(100)]
    kept = [x for x in names if held_out(x)][: n // 2]
    return kept + [x for x in names if not held_out(x)][: n - len(kept)]


def _write_sessions(directory: Path, n: int = 8) -> None:
    """Synthetic channels: askers ask, helpers answer them by name or right away; other
    members chat among themselves in between."""
    rng = random.Random(3)
    for name in _names_in_both_halves(n):
        lines, ann = [], []
        minute = 0
        for _ in range(60):
            asker, helper = rng.sample(["ann", "bob", "cat", "dan", "eve", "fay"], 2)
            q = len(lines)
            at = f"[10:{minute % 60:02d}]"
            lines.append(f"{at} <{asker}> how do I fix the {rng.random():.3f} error?")
            ann.append(f"{q} {q} -")
            if rng.random() < 0.5:
                c = len(lines)
                lines.append(f"[10:{minute % 60:02d}] <gus> unrelated chatter {rng.random():.3f}")
                ann.append(f"{c} {c} -")
            a = len(lines)
            prefix = f"{asker}: " if rng.random() < 0.5 else ""
            at = f"[10:{(minute + 1) % 60:02d}]"
            lines.append(f"{at} <{helper}> {prefix}reinstall the error package")
            ann.append(f"{q} {a} -")
            minute += 2
        (directory / f"{name}.raw.txt").write_text("\n".join(lines) + "\n")
        (directory / f"{name}.annotation.txt").write_text("\n".join(ann) + "\n")


def test_training_on_annotated_sessions_learns_and_reports_held_out(tmp_path):
    _write_sessions(tmp_path)
    model, report = train(tmp_path)
    assert report["sessions_train"] and report["sessions_held_out"]
    assert report["held_out"]["recall"] > 0.8
    named = dict(zip(FEATURES, model.weights, strict=True))
    assert named["addressed"] > 0


def test_the_time_split_holds_out_the_sessions_of_the_last_ten_dates():
    names = [f"2015-01-{d:02d}.train-a" for d in range(1, 16)] + ["2015-01-15_02"]
    kept = held_out_names(names, "time")
    assert kept == {n for n in names if n[:10] >= "2015-01-06"}
    assert len(held_out_names(names, "session-hash")) == sum(held_out(n) for n in names)
    with pytest.raises(ValueError, match="unknown split 'random'"):
        held_out_names(names, "random")


def test_training_on_the_time_split_never_sees_the_later_sessions(tmp_path):
    _write_sessions(tmp_path, n=12)
    for k, old in enumerate(sorted(tmp_path.glob("*.raw.txt"))):
        stem = old.name.removesuffix(".raw.txt")
        for part in ("raw", "annotation"):
            (tmp_path / f"{stem}.{part}.txt").rename(tmp_path / f"2015-01-{k + 1:02d}.{part}.txt")
    _, report = train(tmp_path, split="time")
    assert (report["sessions_train"], report["sessions_held_out"]) == (2, 10)
    assert report["split"] == "time" and report["held_out"]["recall"] > 0.5


def test_a_model_in_use_replaces_the_shipped_one_inside_its_block_only():
    shipped = default_model()
    other = ReplyModel(
        weights=(0.0,) * len(FEATURES),
        bias=-9.0,
        threshold=0.5,
        window_minutes=shipped.window_minutes,
        max_candidates=shipped.max_candidates,
        trained_on={},
    )
    with model_in_use(other):
        assert default_model() is other
    assert default_model() is shipped


def test_bad_annotations_are_named(tmp_path):
    (tmp_path / "a.raw.txt").write_text("[10:00] <ann> hi\n")
    (tmp_path / "a.annotation.txt").write_text("0 zero -\n")
    with pytest.raises(ValueError, match=r"a\.annotation\.txt:1"):
        list(read_sessions(tmp_path))
    with pytest.raises(ValueError, match=r"no \*\.annotation\.txt"):
        list(read_sessions(tmp_path / "nowhere"))


def test_cli_train_replies_writes_a_model_that_loads(tmp_path):
    _write_sessions(tmp_path)
    out = tmp_path / "model" / "replies.json"
    result = CliRunner().invoke(
        app, ["intelligence", "train-replies", str(tmp_path), "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert ReplyModel.read(out).threshold > 0
    missing = CliRunner().invoke(
        app, ["intelligence", "train-replies", str(tmp_path / "no"), "--out", str(out)]
    )
    assert missing.exit_code != 0 and "not a directory" in missing.output


@pytest.mark.shared_data
def test_the_shipped_model_does_as_well_on_held_out_ubuntu_sessions():
    if not IRC.is_dir():
        pytest.skip(f"{IRC} not here")
    _, report = train(IRC)
    assert report["held_out"]["precision"] > 0.55 and report["held_out"]["recall"] > 0.55
