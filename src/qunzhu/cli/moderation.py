"""`qunzhu moderation check|eval|train|audit|review|export-feedback`: rules enforced in
real time, measured, retrained and reviewed."""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from qunzhu.cli import words
from qunzhu.cli.core import progress_bar, store_at_head
from qunzhu.cli.output import JSON_OPTION, console, emit, fail
from qunzhu.cli.words import column, say
from qunzhu.engines import views
from qunzhu.engines.recompute import recompute_community
from qunzhu.moderation.classifier import ModelError, SpamModel, load_model
from qunzhu.moderation.community_layer import LayerError, review_examples, train_layer
from qunzhu.moderation.evaluate import Scores, evaluate
from qunzhu.moderation.inspect import Inspector, default_spec
from qunzhu.moderation.labelled import Example, LabelledFileError, read_labelled
from qunzhu.moderation.review import OPERATIONS, ReviewError, feedback, queue, review
from qunzhu.moderation.stored import AuditError, audit_stored, community_spec
from qunzhu.moderation.training import TrainingError, train
from qunzhu.readmodels.review_precision import flag_precision
from qunzhu.store.resolve import community_id_by_slug
from qunzhu.wiring import after_review

app = typer.Typer(
    help="Moderation: check a message, measure and retrain the classifier, review the queue.",
    no_args_is_help=True,
)
MODEL = typer.Option(
    None, "--model", help="A model file from `moderation train` (default: the one shipped)."
)
COMMUNITY = typer.Option(..., "--community", "-c", help="Community slug.")


def _model(path: Path | None, as_json: bool) -> SpamModel:
    try:
        return load_model(path)
    except ModelError as exc:
        raise fail(str(exc), as_json=as_json) from None


def _inspector(community: str | None, path: Path | None, as_json: bool) -> Inspector:
    """The default rules, or the community's; its model: --model, else the one the
    community's spec names (rules.classifier.model), else the shipped one."""
    if community is None:
        return Inspector(default_spec(), _model(path, as_json))
    store = store_at_head(as_json)
    try:
        with store.reading() as session:
            spec = community_spec(session, community)
    except AuditError as exc:
        raise fail(str(exc), as_json=as_json) from None
    finally:
        store.dispose()
    named = spec.rules.classifier.model
    return Inspector(spec, _model(path or (Path(named) if named else None), as_json))


@app.command()
def check(
    text: str = typer.Argument(..., help="The message text."),
    community: str | None = typer.Option(
        None, "--community", "-c", help="Use this community's rules (default rules otherwise)."
    ),
    model: Path | None = MODEL,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show the decision for one message, with every finding and its evidence."""
    inspector = _inspector(community, model, as_json)
    data = inspector.check(text).as_dict()

    def render(d: dict[str, Any]) -> None:
        console.print(
            f"decision: [bold]{d['decision']}[/]  spam: {d['spam']}  "
            f"classifier score: {d['score']:.3f}",
            highlight=False,
        )
        table = Table("rule", "detector", "score", "evidence")
        for f in d["findings"]:
            table.add_row(f["rule"], f["detector"], f"{f['score']:.2f}", f["evidence"][:80])
        if d["findings"]:
            console.print(table)

    emit(data, as_json, render)


@app.command("eval")
def eval_(
    files: list[Path] = typer.Argument(
        ..., help="Labelled CSV/TSV files (label|target, text|input)."
    ),
    community: str | None = typer.Option(None, "--community", "-c", help="Community rules."),
    model: Path | None = MODEL,
    as_json: bool = JSON_OPTION,
) -> None:
    """Precision, recall, F1 and false-positive rate on labelled messages."""
    inspector = _inspector(community, model, as_json)
    examples = _read(files, as_json)
    with progress_bar() as bar:
        task = bar.add_task("evaluating", total=len(examples))
        scores = evaluate(inspector, examples, progress=lambda n: bar.advance(task, n))
    emit(scores.as_dict(), as_json, lambda d: _render_scores(scores))


def _render_scores(scores: Scores) -> None:
    d = scores.as_dict()
    console.print(f"n={d['n']} (tp {d['tp']}, fp {d['fp']}, fn {d['fn']}, tn {d['tn']})")
    for name, label in (
        ("precision", "precision"),
        ("recall", "recall"),
        ("f1", "F1"),
        ("fpr", "false-positive rate"),
    ):
        low, high = d["ci95"].get(name, (d[name], d[name]))
        console.print(
            f"{label:<20} {d[name]:.4f}  (95% CI {low:.4f} – {high:.4f})", highlight=False
        )


def _read(files: list[Path], as_json: bool) -> list[Example]:
    examples: list[Example] = []
    try:
        for path in files:
            examples += read_labelled(path)
    except LabelledFileError as exc:
        raise fail(str(exc), as_json=as_json) from None
    if not examples:
        raise fail("the files hold no labelled messages", as_json=as_json)
    return examples


@app.command("train")
def train_(
    files: list[Path] = typer.Argument(None, help="Labelled CSV/TSV files to learn from."),
    out: Path = typer.Option(
        Path("qunzhu-spam-model.npz"), "--out", "-o", help="Model file to write."
    ),
    community: str | None = typer.Option(
        None,
        "--community",
        "-c",
        help="Train a layer on top of the model from this community's reviews instead.",
    ),
    model: Path | None = MODEL,
    as_json: bool = JSON_OPTION,
) -> None:
    """Train the spam classifier on your own labelled messages (needs scikit-learn), or with
    --community a layer on top of the shipped model (or --model) from the community's
    approved and undone reviews."""
    if community is not None:
        _train_layer(community, _model(model, as_json), out, as_json)
        return
    if not files:
        raise fail("name labelled files to train on, or --community", as_json=as_json)
    examples = _read(files, as_json)
    try:
        with console.status("training"):
            trained = train(examples, about={"files": [str(f) for f in files]})
    except TrainingError as exc:
        raise fail(str(exc), as_json=as_json) from None
    trained.save(out)
    data = {"model": str(out), **trained.about}
    emit(
        data,
        as_json,
        lambda d: console.print(
            f"wrote {out}: {d['messages']} messages ({d['spam']} spam), validation F1 "
            f"{d['validation_f1']}; use it with --model {out}",
            highlight=False,
        ),
    )


def _train_layer(community: str, base: SpamModel, out: Path, as_json: bool) -> None:
    store = store_at_head(as_json)
    try:
        with store.reading() as session:
            community_id = community_id_by_slug(session, community)
            if community_id is None:
                raise fail(f"unknown community {community!r}", as_json=as_json)
            examples = review_examples(feedback(session, community_id))
    finally:
        store.dispose()
    try:
        layered = train_layer(base, examples, about={"community": community})
    except LayerError as exc:
        raise fail(str(exc), as_json=as_json) from None
    layered.save(out)
    layer = layered.about["community_layer"]
    data = {"model": str(out), **layer}
    emit(
        data,
        as_json,
        lambda d: console.print(
            f"wrote {out}: a layer for {community} from {d['reviews']} reviews "
            f"({d['spam']} spam); use it with --model {out} or QUNZHU_MODERATION_MODEL",
            highlight=False,
        ),
    )


@app.command()
def audit(
    community: str = COMMUNITY,
    model: Path | None = MODEL,
    as_json: bool = JSON_OPTION,
) -> None:
    """What the rules would have done to the stored history, per rule (writes nothing)."""
    store = store_at_head(as_json)
    try:
        with progress_bar() as bar:
            task = bar.add_task("auditing", total=None)
            report = audit_stored(
                store, community, _model(model, as_json), progress=lambda n: bar.advance(task, n)
            )
    except AuditError as exc:
        raise fail(str(exc), as_json=as_json) from None
    finally:
        store.dispose()

    def render(d: dict[str, Any]) -> None:
        console.print(
            f"{d['messages']:,} messages judged; {d['acted']:,} would be acted on, "
            f"{d['flagged']:,} flagged for review"
        )
        table = Table("rule", "action", "messages")
        for row in d["by_rule"]:
            table.add_row(row["rule"], row["action"], f"{row['count']:,}")
        console.print(table)

    emit(report, as_json, render)


@app.command("review")
def review_(
    operation: str = typer.Argument(
        "list", help="list, stats (how often flags were right), approve, undo or escalate."
    ),
    ids: list[int] = typer.Argument(None, help="Moderation item ids (for approve/undo/escalate)."),
    community: str = COMMUNITY,
    note: str | None = typer.Option(
        None, "--note", help="Why (kept with the review; an appeal's reason)."
    ),
    status: str = typer.Option(
        "pending_review", "--status", help="List items in this status ('' for all)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """The review queue: list flagged items; approve, undo (appeal) or escalate them. What the
    platform must do (delete, warn, unmute…) is queued with the decision and carried out by
    the connectors of `qunzhu serve`. `stats`: how often the flags reviewed in the last 30
    days were right, per detector (flag_precision, as the review page shows it)."""
    store = store_at_head(as_json)
    try:
        with store.unit_of_work() as session:
            community_id = community_id_by_slug(session, community)
            if community_id is None:
                raise ReviewError(f"unknown community {community!r}")
            if operation == "list":
                data: Any = queue(session, community_id, status=status or None)
            elif operation == "stats":
                data = flag_precision(session.connection(), community_id).as_dict()
            elif operation in OPERATIONS:
                if not ids:
                    raise ReviewError(f"{operation} needs one or more item ids")
                spec = community_spec(session, community)
                tz = store.settings.tz
                reviewed = [
                    review(session, community_id, item, operation, spec, note=note, tz=tz)
                    for item in ids
                ]
                after_review(session, community_id, [r.member_id for r in reviewed], tz)
                data = [r.as_dict() for r in reviewed]
            else:
                raise ReviewError(
                    f"unknown operation {operation!r}; use list, stats, " + ", ".join(OPERATIONS)
                )
        if operation in ("undo", "approve", "escalate") and community_id is not None:
            _recompute_roles(store, community_id)
    except (ReviewError, AuditError) as exc:
        raise fail(str(exc), as_json=as_json) from None
    finally:
        store.dispose()

    def render(d: Any) -> None:
        names = ("id", "status", "rule", "action", "points", "text")
        table = Table(*(column(n) for n in names))
        for item in d:
            actions = item.get("action", ", ".join(a["kind"] for a in item.get("actions", [])))
            table.add_row(
                str(item["id"]),
                words.code("mod_status", item["status"]),
                words.code("rule", item.get("rule", "")),
                say("names.list_sep").join(words.action(a) for a in actions.split(", ") if a),
                str(item["points"]),
                str(item.get("text", ""))[:60],
            )
        console.print(table)
        queued = sum(len(item.get("queued", [])) for item in d)
        if queued:
            console.print(say("cli.review.queued", n=queued))

    if operation == "stats":
        tz = store.settings.tz
        emit(data, as_json, lambda d: _render_stats(d, community, tz))
        return
    emit(data, as_json, render)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _render_stats(d: dict[str, Any], slug: str, tz: Any) -> None:
    """``flag_precision`` in the operator's language: the figure, its interval, per detector."""
    console.print(say("review.precision_title"))
    if not d["reviewed"]:
        console.print(say("review.precision_empty"))
    else:
        interval = say("review.precision_interval", low=_pct(d["low"]), high=_pct(d["high"]))
        console.print(f"{say('review.col_precision')} {_pct(d['precision'])} ({interval})")
        console.print(
            say(
                "review.precision_summary",
                approved=d["approved"],
                undone=d["undone"],
                reviewed=d["reviewed"],
            )
        )
        names = ("col_detector", "col_decided", "col_right", "col_wrong", "col_precision")
        table = Table(*(say(f"review.{n}") for n in names))
        for p in d["by_detector"]:
            table.add_row(
                words.code("detector", p["detector"]),
                str(p["reviewed"]),
                str(p["approved"]),
                str(p["undone"]),
                f"{_pct(p['precision'])} ({_pct(p['low'])}–{_pct(p['high'])})",
            )
        console.print(table)
    if d["pending"]:
        console.print(say("review.precision_pending", n=d["pending"]))
    layer = d["community_layer"]
    if layer["in_use"] and layer["trained_at"]:
        when = datetime.fromisoformat(layer["trained_at"]).astimezone(tz)
        console.print(say("review.layer_on", when=f"{when:%Y-%m-%d %H:%M}"))
    elif layer["in_use"]:
        console.print(say("review.layer_missing"))
    else:
        console.print(say("review.layer_off", slug=slug))


def _recompute_roles(store: Any, community_id: int) -> None:
    """Points changed: roles (a disruptor is one by unexpired points), values and tiers are
    recomputed now, not at the next scheduled recompute, so an undone flag stops counting
    against the member at once. Messages are not scored again (``score=False``)."""
    tz = store.settings.tz
    with store.engine.connect() as conn, conn.begin():
        day = views.latest_data_day(conn, community_id, datetime.now(tz).date())
        recompute_community(conn, community_id, day or datetime.now(tz).date(), tz, score=False)


@app.command("export-feedback")
def export_feedback(
    community: str = COMMUNITY,
    out: Path | None = typer.Option(None, "--out", "-o", help="CSV file (default: stdout)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Reviewed items as labelled data (label,text) to retrain with `moderation train`."""
    store = store_at_head(as_json)
    try:
        with store.reading() as session:
            community_id = community_id_by_slug(session, community)
            if community_id is None:
                raise ReviewError(f"unknown community {community!r}")
            rows = feedback(session, community_id)
    except ReviewError as exc:
        raise fail(str(exc), as_json=as_json) from None
    finally:
        store.dispose()
    if out is None and not as_json:
        writer = csv.writer(sys.stdout)
        writer.writerow(["label", "text"])
        writer.writerows(rows)
        return
    if out is not None:
        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["label", "text"])
            writer.writerows(rows)
    data = {
        "file": str(out) if out else None,
        "rows": len(rows),
        "spam": sum(label for label, _ in rows),
    }
    emit(data, as_json, lambda d: console.print(f"wrote {d['rows']} labelled messages to {out}"))
