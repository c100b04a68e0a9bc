"""docs/spec.md carries the table of every lint code, generated from the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from qunzhu.spec.lint import CHECKS
from qunzhu.spec.lint.doc import main, render, splice

DOC = Path(__file__).parents[2] / "docs" / "spec.md"


def test_documented_lint_table_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert splice(text) == text, "regenerate: python -m qunzhu.spec.lint.doc --write docs/spec.md"


def test_table_lists_every_code_with_both_titles() -> None:
    table = render()
    for registered in CHECKS:
        row = f"| {registered.code} | {registered.severity} | {registered.title_en} "
        assert row in table
        assert registered.title_zh in table


def test_splice_needs_the_markers() -> None:
    with pytest.raises(ValueError, match="markers"):
        splice("# no table here\n")


def test_write_replaces_a_stale_table(tmp_path: Path) -> None:
    stale = tmp_path / "spec.md"
    text = DOC.read_text(encoding="utf-8")
    stale.write_text(text.replace("| QZ201 |", "| QZ999 |"), encoding="utf-8")
    assert main(["--write", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == text
