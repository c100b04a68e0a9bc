"""The shape of what members say, and what every language of the sample shares.

A :class:`Lexicon` is one language's phrases; :mod:`qunzhu.demo.words_zh` and
:mod:`qunzhu.demo.words_en` fill it. Answers are written for their question so that a reply
shares words with what it answers, as real ones do (reply-link models rely on it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QA:
    question: str
    answers: tuple[str, ...]


def qa(question: str, *answers: str) -> QA:
    return QA(question, answers)


@dataclass(frozen=True)
class Share:
    """A resource someone posts: a link card, a file, or text with a link in it."""

    text: str
    kind: str = "text"
    attachment: str | None = None


@dataclass(frozen=True)
class Topic:
    questions: tuple[QA, ...]
    talk: tuple[str, ...]
    shares: tuple[Share, ...]


@dataclass(frozen=True)
class Lexicon:
    topics: dict[str, Topic]
    ask_open: tuple[str, ...]
    ask_close: tuple[str, ...]
    answer_open: tuple[str, ...]
    generic_answers: tuple[str, ...]
    more: tuple[str, ...]
    thanks: tuple[str, ...]
    still: tuple[str, ...]
    fixed: tuple[str, ...]
    me_too: tuple[str, ...]
    learned: tuple[str, ...]
    bumps: tuple[str, ...]
    share_thanks: tuple[str, ...]
    greetings: tuple[str, ...]
    goodnight: tuple[str, ...]
    scenes: tuple[tuple[str, ...], ...]
    fillers: tuple[str, ...]
    stickers: tuple[str, ...]
    intros: tuple[str, ...]
    goals: tuple[str, ...]
    welcomes: tuple[str, ...]
    op_welcome: tuple[str, ...]
    red_envelope: tuple[str, ...]
    red_thanks: tuple[str, ...]
    rule_notices: tuple[str, ...]
    checkin_notes: tuple[str, ...]
    checkin_post: str
    image: str


# Code people paste while asking or answering: short, plausible, sometimes with the bug.
CODE: tuple[str, ...] = (
    "```python\nfrom openai import OpenAI\nclient = OpenAI()\nresp = client.chat.completions"
    '.create(\n    model="gpt-4o-mini",\n    messages=[{"role": "user", "content": q}],\n)'
    "\nprint(resp.choices[0].message.content)\n```",
    "```python\nimport asyncio\n\nasync def main():\n    results = await asyncio.gather("
    "*(fetch(u) for u in urls))\n    return results\n\nasyncio.run(main())\n```",
    "```python\nsplitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)"
    "\nchunks = splitter.split_documents(docs)\n```",
    '```python\n@app.post("/chat")\nasync def chat(req: ChatRequest) -> StreamingResponse:'
    '\n    return StreamingResponse(stream(req.messages), media_type="text/event-stream")\n```',
    "```bash\npython -m venv .venv && source .venv/bin/activate\npip install -U pip\n"
    "pip install -r requirements.txt\n```",
    "```python\nemb = model.encode(texts, normalize_embeddings=True)\nscores = emb @ q_emb.T"
    "\ntop = scores.argsort()[::-1][:5]\n```",
    '```python\ntools = [{"type": "function", "function": {"name": "search", '
    '"parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}]'
    "\n```",
    'Traceback (most recent call last):\n  File "app.py", line 12, in <module>\n'
    "    import chromadb\nModuleNotFoundError: No module named 'chromadb'",
    "openai.RateLimitError: Error code: 429 - {'error': {'message': 'Rate limit reached "
    "for gpt-4o in organization org-xxx on tokens per min (TPM)'}}",
    "```python\nfor attempt in range(3):\n    try:\n        return call_llm(prompt)\n"
    "    except RateLimitError:\n        time.sleep(2 ** attempt)\n```",
    "```dockerfile\nFROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install "
    '--no-cache-dir -r requirements.txt\nCMD ["uvicorn", "main:app", "--host", '
    '"0.0.0.0"]\n```',
    '```python\nprompt = f"""你是一名资深Python工程师。\n请审查下面的代码，列出问题并给出修改后的'
    '版本。\n代码：\n{code}\n"""\n```',
)

# Ads and contact solicitation, with the evasions spammers really use (spaced characters,
# homophones of 微信, emoji digits), and domains no operator would allow.
SPAM_ZH: tuple[str, ...] = (
    "兼职日结，手机操作，一单一结，每天1-2小时，有意者加 薇 信：ggh5582",
    "出售 ChatGPT Plus 成品号，稳定不封，独享，需要的私我 V❤X：aiplus_888",
    "💰宝妈学生党都能做的副业，日赚300+，详情加 v 信 9 5 2 7 x y",
    "免费领取 GPT-4 永久使用权👉 http://gpt4-free.vip/reg?c=8821 名额有限先到先得",
    "AI 绘画接单，月入过万不是梦，扫码进群领取教程 https://ai-jianzhi.top/join",
    "炒币带单，稳赚不赔，日收益10%，进群 t.me/joinchat/AAAAAEk2xQ9b 私聊老师",
    "有需要 Claude / Midjourney 账号的吗？低价出，量大从优，➕威：mj2024vip",
    "本人专业代写毕业论文、查重降重，价格美丽，QQ：2⃣8⃣7⃣5⃣1⃣3⃣6⃣0⃣",
    "刷单返利，垫付秒返，佣金日结，加扣扣群 738291045 了解",
    "【内部渠道】大厂内推包过，简历直达HR，收费 999，私聊 vx：neitui_pro",
)
SPAM_EN: tuple[str, ...] = (
    "🚀 Earn $500/day working from home, no experience needed. DM me now!",
    "Crypto signals with 100% accuracy 📈 join t.me/+pumpsignals99 before it closes",
    "Selling ChatGPT Plus and Claude Pro accounts, cheap and stable, contact @gptdealz",
    "Hello dear, I am a recruiter with a remote job for you, 300 USD daily, WhatsApp "
    "+1 (302) 555-0143",
    "FREE AI course bundle worth $2000 👉 bit.ly/ai-free-bundle grab it before tonight",
    "Investment opportunity: double your BTC in 48h, message me privately",
)

# Legitimate places people link to, for the links rule's allowlist to learn from.
GOOD_DOMAINS: tuple[str, ...] = (
    "github.com",
    "arxiv.org",
    "mp.weixin.qq.com",
    "docs.python.org",
    "huggingface.co",
    "platform.openai.com",
    "docs.anthropic.com",
    "python.langchain.com",
    "zhuanlan.zhihu.com",
    "juejin.cn",
    "www.bilibili.com",
    "docs.llamaindex.ai",
    "fastapi.tiangolo.com",
)

# Headlines for the assistant's morning digest (早报), a daily ritual of operated groups.
NEWS: tuple[str, ...] = (
    "OpenAI 发布新一代推理模型，编程基准大幅提升",
    "Anthropic 推出 Claude 新版本，长上下文能力再升级",
    "GitHub Copilot 新增 Agent 模式，可自动修改多个文件",
    "Cursor 完成新一轮融资，估值再创新高",
    "Meta 开源新版 Llama 模型，支持更长上下文",
    "阿里通义千问发布新版开源代码模型",
    "DeepSeek 开源新模型，推理成本再降",
    "LangChain 发布 1.0 路线图，Agent 框架全面重构",
    "Google 发布 Gemini 新模型，多模态能力增强",
    "Hugging Face 上线新的开源评测榜单",
    "Python 3.13 正式版发布，实验性去除 GIL",
    "向量数据库 Milvus 发布新版本，性能提升明显",
    "智谱发布新一代 GLM 模型，开放 API 调用",
    "MCP 协议生态快速扩张，主流 IDE 陆续支持",
    "字节跳动发布 AI 编程工具 Trae 新版本",
    "微软发布 Phi 系列小模型新版本，端侧可运行",
    "Kimi 开放长文本 API，价格下调",
    "多家大厂开放 AI 应用开发岗位校招",
)
