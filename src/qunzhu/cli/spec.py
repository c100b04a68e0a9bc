"""`qunzhu spec init|check`: write the commented template, check a community.yaml.

``check`` exits 0 when the spec is clean (warnings allowed), 1 when the positioning lint
finds errors, 2 when the file cannot be read or does not load; scripts rely on these.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from qunzhu.cli.output import JSON_OPTION, console, emit, fail
from qunzhu.spec import SpecError, SpecProblem, lint, load_spec, template

app = typer.Typer(help="The community spec community.yaml (社群定位).", no_args_is_help=True)

EXIT_LINT_ERRORS = 1
EXIT_NOT_LOADED = 2
_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


class Lang(StrEnum):
    zh = "zh"
    en = "en"


@app.command("init")
def init(
    file: Path = typer.Argument(Path("community.yaml"), help="Where to write the template."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Write a commented community.yaml to start from (写出带注释的模板)."""
    if file.exists() and not force:
        raise fail(f"{file} exists already; use --force to overwrite it", as_json=as_json, code=1)
    try:
        file.write_text(template(), encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {file}: {exc.strerror}", as_json=as_json) from None
    emit(
        {"file": str(file), "written": True},
        as_json,
        lambda d: console.print(
            f"wrote {d['file']}; edit it, then run: qunzhu spec check {d['file']}",
            highlight=False,
            soft_wrap=True,
        ),
    )


@app.command("check")
def check(
    file: Path = typer.Argument(..., help="The community.yaml to check."),
    as_json: bool = JSON_OPTION,
    lang: Lang = typer.Option(Lang.en, "--lang", help="Language of the messages: zh or en."),
) -> None:
    """Report schema errors with line, column and field, then the positioning lint."""
    report: dict[str, Any] = {"file": str(file), "ok": False, "errors": [], "findings": []}
    try:
        spec = load_spec(file)
    except OSError as exc:
        problem = SpecProblem("", 0, 0, f"cannot read {file}: {exc.strerror}", "无法读取文件")
        report["errors"] = [_problem_dict(problem, lang.value)]
        _finish(report, as_json, EXIT_NOT_LOADED)
    except SpecError as exc:
        report["errors"] = [_problem_dict(p, lang.value) for p in exc.problems]
        _finish(report, as_json, EXIT_NOT_LOADED)
    else:
        findings = lint(spec)
        report["findings"] = [finding.as_dict(lang.value) for finding in findings]
        has_errors = any(finding.severity == "error" for finding in findings)
        report["ok"] = not has_errors
        _finish(report, as_json, EXIT_LINT_ERRORS if has_errors else 0)


def _problem_dict(problem: SpecProblem, lang: str) -> dict[str, Any]:
    return {
        "path": problem.path,
        "line": problem.line,
        "column": problem.column,
        "message": problem.text(lang),
        "message_en": problem.message,
        "message_zh": problem.message_zh or problem.message,
    }


def _finish(report: dict[str, Any], as_json: bool, code: int) -> None:
    emit(report, as_json, _render)
    if code:
        raise typer.Exit(code)


def _render(report: dict[str, Any]) -> None:
    name = report["file"]
    for error in report["errors"]:
        where = f"{name}:{error['line']}:{error['column']}" if error["line"] else name
        field = f" {error['path']}" if error["path"] else ""
        console.print(
            Text.assemble((where, "bold"), field, ": ", (error["message"], "red")),
            soft_wrap=True,
        )
    for finding in report["findings"]:
        where = f"{name}:{finding['line']}" if finding["line"] else name
        console.print(
            Text.assemble(
                (where, "bold"),
                " ",
                (f"{finding['code']} {finding['severity']}", _STYLE[finding["severity"]]),
                f" {finding['path']}: {finding['message']}",
            ),
            soft_wrap=True,
        )
    console.print(Text(_summary(report)), soft_wrap=True)


def _summary(report: dict[str, Any]) -> str:
    if report["errors"]:
        count = len(report["errors"])
        return f"{count} problem{'s' * (count != 1)}: the spec did not load"
    counts = {"error": 0, "warning": 0, "info": 0}
    for finding in report["findings"]:
        counts[finding["severity"]] += 1
    if not report["findings"]:
        return "clean: no findings"
    plural = {"error": "errors", "warning": "warnings", "info": "info"}
    return ", ".join(f"{n} {kind if n == 1 else plural[kind]}" for kind, n in counts.items())
