"""A labelled sample of questions and non-questions, Chinese and English, for the question
detector (``engines.features``): real #ubuntu IRC lines and real Chinese Telegram chat by
reference only (``data/question_refs.tsv``: file, line or row, label; the texts are read
from ../shared/data and never copied here), and lines in the style of the sample
community, written by us, inline.

Parts, for honest figures. The first batch was split into halves: IRC by session file (the
later half of its files by name is held out), the Telegram rows by position (the later
half), our own lines alternately; the detector was tuned on the ``tuned`` half, and the
kinds of error on the ``held_out`` half were looked at once. The ``fresh`` batch (other
IRC sessions, other rows) was drawn and labelled without the detector's verdicts in sight,
measured, and then its errors were used for a second round of tuning. The ``blind`` batch
(other sessions and rows again) was labelled the same way after that round, and nothing
was changed after measuring it: its figures are the honest ones. Used by
tests/engines/test_questions.py and bench/bench_questions.py.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

REFS = Path(__file__).parent / "data" / "question_refs.tsv"
_IRC_LINE = re.compile(r"^\[\d\d:\d\d\] <[^>]+> (.+)$")

# (text, is a question): the sample community's kinds of lines and the hard negatives
OWN: tuple[tuple[str, bool], ...] = (
    ("可以的", False),
    ("可以的，我晚上试试", False),
    ("好的谢谢，搞定了", False),
    ("欢迎 @Lucas 加入训练营🎉 请先看群公告，有问题随时在群里问～", False),
    ("welcome @dana, glad to have you here", False),
    ("yeah, don't do that", False),
    ("```dockerfile\nFROM python:3.11-slim\nWORKDIR /app\nRUN pip install -r r.txt\n```", False),
    ("```python\nimport os\nprint(os.getcwd())\n```", False),
    ("sudo apt-get install build-essential", False),
    ("pip install -U langchain", False),
    ("Traceback (most recent call last):\n  File \"a.py\", line 3\nKeyError: 'x'", False),
    ("ERROR: Could not find a version that satisfies the requirement torch==2.9", False),
    ("E: Unable to locate package foo", False),
    ("这篇讲 RAG 的文章不错 https://zhuanlan.zhihu.com/p/1234", False),
    ("【AI 早报】1. 新模型发布 2. 编辑器新增 Agent 模式", False),
    ("感谢分享🙏", False),
    ("哈哈哈哈 太真实了", False),
    ("明天下午三点直播，记得来", False),
    ("用 uv 装会快很多", False),
    ("不用谢，能跑就好", False),
    ("I think the problem is the driver", False),
    ("try rebooting with nomodeset", False),
    ("thanks, that fixed it", False),
    ("请先看群公告，把群昵称改成「姓名-城市-职业」", False),
    ("我也遇到过，后来换成 3.11 就好了", False),
    ("has anyone tried the new cursor agent mode?", True),
    ("how do I keep the chat history between calls", True),
    ("anyone know why my embeddings are all zeros", True),
    ("请教一下，向量库选 Milvus 还是 Chroma 比较好", True),
    ("RAG 的召回率怎么评估呢", True),
    ("有没有人用过 Dify 部署到内网", True),
    ("这个报错怎么解决？", True),
    ("大佬们，LangChain 的 memory 怎么持久化", True),
    ("求助🙏 docker 里跑 vLLM 显存不够怎么办", True),
    ("is there a way to stream the response", True),
    ("what's the difference between a tool and a function call?", True),
    ("why does my prompt get truncated", True),
    ("如何让模型只输出 JSON", True),
    ("能不能在 Windows 上跑 ollama", True),
    ("转行做 AI 应用开发需要学多久？", True),
    ("有人知道 API 限流是按分钟算的吗", True),
    ("can someone explain what temperature does", True),
    ("where do I put the API key", True),
    ("Cursor 和 Copilot 哪个好用", True),
    ("我的 pip 一直装不上 torch，有人遇到过吗", True),
    ("should I fine-tune or use RAG for this", True),
    ("新手问一下 Python 虚拟环境是干嘛的", True),
    ("为什么 Agent 总是调用同一个工具", True),
    ("做 agent 一定要有日志，不然根本不知道它在想什么", False),
    ("它知道每个变量是什么，所以生成的代码更靠谱", False),
    ("部署完外网访问不了，端口要开哪些", True),
)


@dataclass(frozen=True, slots=True)
class Item:
    source: str  # "irc", "zh-telegram" or "own"
    ref: str  # file:line, row or the index in OWN
    text: str
    question: bool
    part: str  # "tuned", "held_out", "fresh" or "blind"


def _irc_text(data: Path, name: str, line: int) -> str | None:
    lines = (data / name).read_text(encoding="utf-8", errors="replace").split("\n")
    found = _IRC_LINE.match(lines[line]) if line < len(lines) else None
    return found.group(1) if found else None


def load_sample(data: Path) -> list[Item]:
    """The whole sample; the referenced half only when ``data`` (../shared/data) exists."""
    items = [
        Item("own", str(i), t, q, "held_out" if i % 2 else "tuned") for i, (t, q) in enumerate(OWN)
    ]
    if not data.is_dir():
        return items
    refs = [
        row.split("\t")
        for row in REFS.read_text(encoding="utf-8").splitlines()
        if row and not row.startswith("#")
    ]
    first = [r for r in refs if r[3] == "first"]
    irc_files = sorted({r[0] for r in first if r[0].startswith("irc/")})
    later_files = set(irc_files[len(irc_files) // 2 :])
    zh_first = sorted(int(r[1]) for r in first if not r[0].startswith("irc/"))
    middle = zh_first[len(zh_first) // 2] if zh_first else 0
    zh_rows = _rows(data, refs)
    for name, ref, label, batch in refs:
        if name.startswith("irc/"):
            text = _irc_text(data, name, int(ref))
            source, later = "irc", name in later_files
        else:
            text = zh_rows.get((name, int(ref)))
            source, later = "zh-telegram", int(ref) >= middle
        part = batch if batch in ("fresh", "blind") else "held_out" if later else "tuned"
        if text is not None:
            items.append(Item(source, f"{name}:{ref}", text, label == "1", part))
    return items


def _rows(data: Path, refs: list[list[str]]) -> dict[tuple[str, int], str]:
    """The referenced rows of the labelled CSV files, by (file, 0-based row)."""
    wanted: dict[str, set[int]] = {}
    for name, ref, _, _ in refs:
        if not name.startswith("irc/"):
            wanted.setdefault(name, set()).add(int(ref))
    out: dict[tuple[str, int], str] = {}
    for name, rows in wanted.items():
        with (data / name).open(encoding="utf-8", newline="") as handle:
            for i, row in enumerate(csv.DictReader(handle)):
                if i in rows:
                    out[(name, i)] = row["input"]
    return out
