"""`qunzhu library` on both databases: suggest, add with tags (twice: one item), dismiss (not
suggested again), list, search in Chinese and English, export a PDF whose Chinese reads back;
bad input names its field; the human output in Chinese and English."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from pypdf import PdfReader

from qunzhu.cli.main import app

_spec = importlib.util.spec_from_file_location(
    "library_seed", Path(__file__).parents[1] / "readmodels" / "library_seed.py"
)
assert _spec and _spec.loader
seed = importlib.util.module_from_spec(_spec)
sys.modules["library_seed"] = seed
_spec.loader.exec_module(seed)


def _run(cli, *args: str):
    return cli.invoke(app, ["library", *args, "-c", "acme", "--json"])


def test_suggest_add_dismiss_list_search_export(store, cli, cli_env, tmp_path):
    seed.seed_library(store)
    suggested = json.loads(_run(cli, "suggest").output)
    assert [s["value"] for s in suggested] == [9.5, 8.0, 7.2, 5.1]
    first, second = suggested[0]["message_id"], suggested[1]["message_id"]
    added = _run(cli, "add", str(first), "-t", "入门，规则")
    assert added.exit_code == 0, added.output
    again = json.loads(_run(cli, "add", str(first), "-t", "入门").output)
    assert again["id"] == json.loads(added.output)["id"] and again["tags"] == ["入门"]
    assert json.loads(_run(cli, "dismiss", str(second)).output)["status"] == "dismissed"
    left = [s["message_id"] for s in json.loads(_run(cli, "suggest").output)]
    assert first not in left and second not in left
    kept = json.loads(_run(cli, "list").output)
    assert [k["message_id"] for k in kept] == [first]
    assert [k["message_id"] for k in json.loads(_run(cli, "search", "打卡").output)] == [first]
    assert json.loads(_run(cli, "search", "venv").output) == []  # dismissed, not kept
    out = tmp_path / "合集.pdf"
    exported = json.loads(_run(cli, "export", "--out", str(out), "--by", "month").output)
    assert exported["items"] == 1 and exported["format"] == "pdf"
    text = PdfReader(out).pages[0].extract_text()
    assert "新人入群先看群公告" in text and "a**" in text  # ann, masked


def test_bad_input_names_the_field(store, cli, cli_env, tmp_path):
    seed.seed_library(store)
    missing = _run(cli, "add", "999999")
    assert missing.exit_code == 2 and json.loads(missing.output)["field"] == "message_id"
    empty = _run(cli, "search", " ")
    assert empty.exit_code == 2 and json.loads(empty.output)["field"] == "q"
    docx = _run(cli, "export", "--out", str(tmp_path / "x.docx"))
    assert docx.exit_code == 2 and json.loads(docx.output)["field"] == "format"
    nobody = cli.invoke(app, ["library", "list", "-c", "nope", "--json"])
    assert nobody.exit_code == 2 and json.loads(nobody.output)["field"] == "community"


def test_human_output_in_both_languages(store, cli, cli_env):
    seed.seed_library(store)
    zh = cli.invoke(app, ["--lang", "zh-CN", "library", "suggest", "-c", "acme"])
    assert zh.exit_code == 0 and "推荐收录" in zh.output and "作者" in zh.output
    en = cli.invoke(app, ["--lang", "en", "library", "list", "-c", "acme"])
    assert en.exit_code == 0 and "Nothing in the library here." in en.output
