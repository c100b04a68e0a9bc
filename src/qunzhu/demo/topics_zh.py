"""What the Chinese groups talk about: questions with their answers, talk, and resources."""

from __future__ import annotations

from qunzhu.demo.lexicon import Share, Topic, qa

PYTHON = Topic(
    questions=(
        qa(
            "pip install 一直超时怎么办？公司网络好像连不上 pypi",
            "pip 换国内源就好了：pip config set global.index-url "
            "https://pypi.tuna.tsinghua.edu.cn/simple",
            "pip 超时一般是网络问题，换清华源或者阿里源，或者直接用 uv，快很多",
        ),
        qa(
            "venv 和 conda 到底用哪个？新手很纠结",
            "新手就用 venv，Python 自带，够用了；conda 适合要装 CUDA 那种科学计算环境",
            "我现在全换 uv 了，uv venv 一秒建好，比 conda 轻太多",
        ),
        qa(
            "asyncio.gather 并发请求接口，为什么还是一个一个执行的？",
            "gather 里的函数是不是用了 requests？requests 是同步的，要换 httpx.AsyncClient",
            "asyncio 里调同步函数会阻塞整个事件循环，用 asyncio.to_thread 包一下",
        ),
        qa(
            "ModuleNotFoundError: No module named 'chromadb'，明明 pip 装过了",
            "多半是装到别的 Python 里了，用 python -m pip install chromadb 试试",
            "检查一下 VS Code 右下角选的解释器是不是你的 venv",
        ),
        qa(
            "pandas 读 csv 中文乱码怎么解决",
            "read_csv 加 encoding='gbk' 或者 'utf-8-sig'，Excel 导出的 csv 一般是 gbk",
        ),
        qa(
            "类型注解写了有什么用？感觉 Python 写不写都能跑",
            "类型注解配合 mypy 能提前发现一堆 bug，而且 AI 补全也更准",
            "写类型注解以后 Cursor 生成的代码明显靠谱，因为它知道每个变量是什么",
        ),
        qa(
            "装饰器一直没搞懂，有没有通俗点的解释？",
            "装饰器就是一个函数，吃进一个函数，吐出一个加了功能的新函数，比如给函数加计时、加重试",
        ),
        qa(
            "Python 多线程和多进程怎么选？爬虫用哪个",
            "爬虫是 IO 密集，多线程或者 asyncio 都行；CPU 密集才需要多进程",
        ),
        qa(
            "uv 和 poetry 哪个好用？项目想统一一下",
            "uv 现在基本能替代 poetry 了，uv lock 也有，速度快一个数量级",
        ),
        qa(
            "怎么让 Python 脚本定时每天跑一次？",
            "Linux 上直接 crontab，Windows 用任务计划程序；复杂点的用 APScheduler",
        ),
        qa(
            "Jupyter 里能用 await 吗？一直报 event loop is already running",
            "Jupyter 本身有事件循环，直接在 cell 里 await 就行，不要再 asyncio.run",
        ),
    ),
    talk=(
        "Python 3.13 去掉 GIL 以后多线程终于有用了？",
        "我觉得 Python 入门最难的是环境，不是语法",
        "现在写 Python 基本都是 AI 先写一版，我再改",
        "推荐大家都用 ruff，格式化加 lint 一个工具搞定，很快",
        "pydantic 真的好用，接口参数校验省了好多事",
        "FastAPI + pydantic + SQLAlchemy 这一套写后端挺舒服的",
        "with 语句理解了以后感觉打开了新世界",
        "dataclass 比手写 __init__ 清爽多了",
    ),
    shares=(
        Share("整理了一份 Python 常用库速查表，新手可以收藏", "file", "Python常用库速查表.pdf"),
        Share("uv 的中文教程，写得很清楚 https://juejin.cn/post/7392857391", "link"),
        Share(
            "Real Python 这篇讲 asyncio 的文章是我看过最好的 "
            "https://realpython.com/async-io-python/"
        ),
        Share("【干货】Python 项目结构最佳实践 https://mp.weixin.qq.com/s/Xk2pQ9vL", "link"),
    ),
)

PROMPT = Topic(
    questions=(
        qa(
            "怎么让模型稳定输出 JSON？经常多一句解释导致解析失败",
            "用 response_format 设成 json_object，或者直接用 structured outputs 给 schema",
            "prompt 里给一个 JSON 示例，再说“只输出 JSON，不要任何解释”，基本就稳了",
        ),
        qa(
            "system prompt 和 user prompt 的区别到底是什么？",
            "system 定角色和规则，整段对话都生效；user 是每轮的具体任务",
        ),
        qa(
            "few-shot 给几个例子比较合适？",
            "一般 3 到 5 个就够，例子要覆盖边界情况，太多反而浪费 token",
        ),
        qa(
            "让 AI 写代码总是写一半就停了，怎么办？",
            "输出太长被截断了，让它分文件、分步骤写，或者调大 max_tokens",
            "先让它列出计划和文件清单，再一个文件一个文件地生成，效果好很多",
        ),
        qa(
            "有没有好用的 prompt 模板推荐？写周报用的",
            "周报模板：角色+背景+本周事项列表+输出格式，输出格式写清楚就很稳",
        ),
        qa(
            "temperature 设多少合适？写代码和写文案一样吗？",
            "写代码 temperature 设 0 到 0.2，写文案可以 0.7 以上，要发散一点",
        ),
        qa(
            "怎么防止 prompt 注入？用户输入里写“忽略以上指令”",
            "用户输入用分隔符包起来，system 里声明只处理分隔符里的内容，再做输出校验",
        ),
        qa(
            "CoT 思维链现在还有必要写吗？推理模型好像自己会想",
            "推理模型就不用写 CoT 了，反而会干扰；普通模型复杂任务加上还是有用",
        ),
        qa(
            "同样的 prompt，GPT 和 Claude 效果差很多，正常吗？",
            "正常，不同模型要单独调 prompt，Claude 更喜欢 XML 标签分段",
        ),
    ),
    talk=(
        "prompt 工程的尽头是把需求写清楚，和给人写需求文档一样",
        "我现在写 prompt 都先让模型帮我改写一遍",
        "结构化 prompt 真的比一大段话效果好",
        "角色扮演那套现在用处没那么大了，关键是给足上下文",
        "大家有没有自己的 prompt 库？我用 Notion 在存",
        "模型越来越强，prompt 技巧越来越不重要了，上下文工程更重要",
    ),
    shares=(
        Share(
            "OpenAI 官方的 prompt 指南，建议每个人都看一遍 "
            "https://platform.openai.com/docs/guides/prompt-engineering",
            "link",
        ),
        Share("分享我整理的 50 个编程常用 prompt 模板", "file", "编程Prompt模板50例.xlsx"),
        Share(
            "Anthropic 的 prompt 教程，有交互练习 "
            "https://docs.anthropic.com/en/docs/build-with-claude/prompt-engineering"
        ),
    ),
)

RAG = Topic(
    questions=(
        qa(
            "RAG 的 chunk_size 设多少合适？我设 1000 检索效果很差",
            "chunk_size 没有标准答案，中文一般 300 到 500 字，加 50 左右的 overlap",
            "先看检索回来的 chunk 是不是相关，chunk 太大语义会被稀释",
        ),
        qa(
            "embedding 模型选哪个？中文文档为主",
            "中文推荐 bge-m3 或者 bge-large-zh，效果和速度都不错",
            "embedding 可以直接用 bge-m3，开源免费，多语言也支持",
        ),
        qa(
            "向量数据库 Chroma、Milvus、pgvector 怎么选？",
            "个人项目 Chroma 就够，数据量大上 Milvus，已经用 PostgreSQL 的直接 pgvector",
        ),
        qa(
            "PDF 里的表格怎么解析？直接读出来全乱了",
            "表格试试 unstructured 或者 MinerU，复杂表格转成 markdown 再切块",
        ),
        qa(
            "RAG 检索回来的内容不相关，模型就瞎编，怎么办？",
            "加一个 rerank 模型，比如 bge-reranker，再设相似度阈值，低于阈值就回答不知道",
        ),
        qa(
            "什么是混合检索？BM25 加向量吗",
            "对，BM25 关键词检索加向量检索，结果用 RRF 融合，专有名词多的场景特别有用",
        ),
        qa(
            "RAG 怎么评估效果？总不能一个个人工看",
            "可以用 ragas，评估 faithfulness 和 answer relevancy，先准备 50 条测试集",
        ),
        qa(
            "知识库文档经常更新，向量要全部重建吗？",
            "按文档 hash 做增量更新，只重建改动的文档，删除的文档记得把向量也删掉",
        ),
        qa(
            "GraphRAG 值得上吗？听说很火",
            "GraphRAG 适合需要全局总结的问题，构建成本很高，先把普通 RAG 做好再说",
        ),
    ),
    talk=(
        "RAG 80% 的功夫在数据清洗上",
        "rerank 加上以后效果提升最明显，比换 embedding 模型还有用",
        "长上下文模型出来以后，小知识库直接全塞进去也行",
        "做企业知识库最头疼的是权限，不同人能看的文档不一样",
        "我们公司 RAG 项目最后卡在 PDF 解析上了",
        "查询改写很重要，用户的问题往往写得很随意",
    ),
    shares=(
        Share("RAG 从入门到实战的完整笔记，整理了一个月", "file", "RAG实战笔记v2.pdf"),
        Share("这篇 RAG 综述写得很全 https://arxiv.org/abs/2312.10997", "link"),
        Share(
            "LlamaIndex 官方的高级 RAG 教程 https://docs.llamaindex.ai/en/stable/"
            "optimizing/production_rag/"
        ),
        Share(
            "我把上次讲的 RAG demo 开源了，欢迎 star https://github.com/kaige-dev/rag-starter",
            "link",
        ),
    ),
)

AGENT = Topic(
    questions=(
        qa(
            "function calling 和 agent 是什么关系？",
            "function calling 是能力，agent 是用这个能力循环调用工具直到完成任务的程序",
        ),
        qa(
            "LangChain 太重了，有没有轻量一点的 agent 框架？",
            "可以看看 smolagents 或者 pydantic-ai，代码少很多，自己写个循环也不难",
            "LangGraph 比 LangChain 清楚一些，状态机的思路，调试方便",
        ),
        qa(
            "agent 总是陷入死循环，一直调同一个工具怎么办？",
            "设最大步数，再把已经调用过的工具和结果放进上下文，让它知道自己做过什么",
        ),
        qa(
            "MCP 是什么？和 function calling 有啥区别",
            "MCP 是把工具标准化的协议，一个 MCP server 写好了，各种客户端都能用",
        ),
        qa(
            "多 agent 协作有必要吗？感觉单 agent 就够了",
            "大部分场景单 agent 加好工具就够了，多 agent 调试成本很高，别为了炫技上",
        ),
        qa(
            "agent 的记忆怎么做？聊久了就忘了前面的事",
            "短期记忆用对话摘要，长期记忆存向量库，按需检索回来",
        ),
        qa(
            "怎么让 agent 调用我们公司内部的接口？",
            "把接口包成工具，写清楚描述和参数 schema，描述写得越清楚调得越准",
        ),
        qa(
            "Claude Code 和 Cursor 的 agent 模式哪个好用？",
            "大项目我更喜欢 Claude Code，命令行里改多文件很稳；Cursor 胜在交互方便",
        ),
    ),
    talk=(
        "agent 现在最大的问题还是不稳定，demo 很惊艳，上生产就翻车",
        "工具描述写好比换模型效果还明显",
        "今年应该是 agent 落地元年吧",
        "做 agent 一定要有日志，不然根本不知道它在想什么",
        "我觉得 coding agent 是目前最成熟的 agent 场景",
        "让 agent 自己写测试再自己跑，效果提升很大",
    ),
    shares=(
        Share(
            "Anthropic 的 Building effective agents，强烈推荐 "
            "https://www.anthropic.com/research/building-effective-agents",
            "link",
        ),
        Share(
            "从零手写一个 agent，100 行代码讲清楚原理 https://zhuanlan.zhihu.com/p/692847361",
            "link",
        ),
        Share("整理了一份 MCP server 清单，按场景分好类了", "file", "MCP服务器清单.md"),
    ),
)
