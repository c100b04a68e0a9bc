"""The working side of the Chinese groups: tools, deployment and costs, jobs and interviews."""

from __future__ import annotations

from qunzhu.demo.lexicon import Share, Topic, qa

TOOLS = Topic(
    questions=(
        qa(
            "Cursor 免费版够用吗？还是直接买 Pro",
            "轻度用免费版够，天天写代码的话 Pro 很值，慢速请求也能用",
            "Cursor 我买了 Pro，一个月 20 刀，省下的时间远不止这个钱",
        ),
        qa(
            "Copilot 和 Cursor 哪个好？公司只给报销一个",
            "Copilot 在 VS Code 和 JetBrains 里都能用，Cursor 的多文件编辑更强，看你用什么 IDE",
        ),
        qa(
            "Cursor 的 .cursorrules 怎么写？有没有模板",
            ".cursorrules 写项目的技术栈、代码风格、禁止事项，"
            "GitHub 上搜 awesome-cursorrules 有很多",
        ),
        qa(
            "AI 生成的代码怎么保证质量？总感觉心里没底",
            "让 AI 先写测试，测试过了再看代码；关键逻辑一定自己 review",
        ),
        qa(
            "国内怎么稳定用 Claude？",
            "可以用 API 中转，或者用 Cursor 里的 Claude，注意别买来路不明的账号",
        ),
        qa(
            "Windsurf 用过的说说，和 Cursor 比怎么样",
            "Windsurf 的 agent 上下文理解不错，免费额度也多一点，可以两个都试试",
        ),
        qa(
            "用 AI 读老项目代码有什么技巧？几十万行看不过来",
            "先让 AI 画模块依赖图和调用链，再按模块问，别一次把整个仓库塞进去",
        ),
        qa(
            "VS Code 里有没有好用的免费 AI 插件？",
            "Continue 插件可以接各种模型，接个 DeepSeek 的 API 很便宜",
            "通义灵码和 CodeGeeX 都免费，补全还行",
        ),
    ),
    talk=(
        "用了 Cursor 以后再也回不去了",
        "AI 写代码最怕的是你不知道它写错了",
        "Tab 补全是最被低估的功能",
        "我现在写代码的时间一半在写 prompt 一半在 review",
        "感觉 AI 对新手帮助最大，但新手也最容易被坑",
        "Cursor 的 composer 改多文件真的香",
        "Claude 写前端页面比 GPT 好看",
    ),
    shares=(
        Share("Cursor 高效使用指南（中文版）", "file", "Cursor高效使用指南.pdf"),
        Share(
            "awesome-cursorrules，各种技术栈的规则文件都有 "
            "https://github.com/PatrickJS/awesome-cursorrules",
            "link",
        ),
        Share("B 站这个 Cursor 实战系列讲得很细 https://www.bilibili.com/video/BV1Yx4y1T7aQ"),
    ),
)

DEPLOY = Topic(
    questions=(
        qa(
            "大模型接口流式输出怎么做？前端一直等到最后才显示",
            "后端用 StreamingResponse 配合 SSE，前端用 EventSource 或 fetch 读流",
            "stream=True 以后一块块 yield 出去，nginx 记得关掉 proxy_buffering",
        ),
        qa(
            "API 调用费用太高了，有什么省钱的办法？",
            "简单任务用小模型，加缓存，相同问题直接返回；prompt 也可以精简一下",
            "开 prompt caching，长 system prompt 能省一大半费用",
        ),
        qa(
            "本地部署大模型用 Ollama 还是 vLLM？",
            "自己玩用 Ollama，一条命令就跑起来；要上线服务高并发用 vLLM",
        ),
        qa(
            "遇到 429 Rate limit 怎么处理？",
            "加指数退避重试，再控制并发数；量大的话申请提额或者多个 key 轮询",
        ),
        qa(
            "Docker 部署 FastAPI 镜像太大了，有什么办法瘦身？",
            "用 python:3.11-slim 做基础镜像，多阶段构建，pip 加 --no-cache-dir",
        ),
        qa(
            "7B 模型本地跑需要多大显存？", "7B 用 4bit 量化大概 5 到 6G 显存，16G 内存的 Mac 也能跑"
        ),
        qa(
            "大模型应用怎么做日志和监控？",
            "可以用 Langfuse，开源可自部署，每次调用的 prompt、耗时、费用都能看到",
        ),
    ),
    talk=(
        "上线以后才发现最大的成本是 token",
        "Ollama 在 Mac 上跑小模型体验很好",
        "私有化部署是 toB 项目绕不开的",
        "国内模型 API 价格卷得太厉害了，几乎白送",
        "做应用一定要留好切换模型的口子",
    ),
    shares=(
        Share("vLLM 部署踩坑记录，希望大家少走弯路 https://juejin.cn/post/7381447251", "link"),
        Share("各家大模型 API 价格对比表（本周更新）", "file", "大模型API价格对比.xlsx"),
    ),
)

CAREER = Topic(
    questions=(
        qa(
            "35 岁后端转 AI 应用开发还来得及吗？",
            "来得及，AI 应用开发最缺的就是懂业务懂工程的人，后端经验很加分",
            "我就是 34 转的，先在现在公司找个 AI 项目做起来，比直接跳槽稳",
        ),
        qa(
            "AI 应用开发面试一般问什么？",
            "RAG 全流程、agent 原理、prompt 设计、怎么评估效果，再加上你做过的项目细节",
            "面试会问 RAG 怎么优化，chunk、rerank、混合检索这些要能讲清楚",
        ),
        qa(
            "简历上的 AI 项目怎么写比较好？",
            "写清楚问题、方案、效果数据，比如“检索准确率从 62% 提到 85%”",
        ),
        qa(
            "现在大模型岗位要求是不是都要硕士？",
            "算法岗基本要，应用开发岗没那么卡学历，作品集更重要",
        ),
        qa(
            "有没有人在做 AI 副业？接单靠谱吗",
            "接过几个企业知识库的单子，靠谱的单子都是熟人介绍的，平台上价格卷得厉害",
        ),
        qa(
            "产品经理学 AI 编程有必要吗？",
            "很有必要，能自己做原型沟通效率高太多，不用写得多好，能跑起来就行",
        ),
        qa(
            "应届生想进 AI 方向，先学什么？",
            "Python 基础打牢，然后做一个完整的 RAG 项目部署上线，比刷十门课有用",
        ),
    ),
    talk=(
        "今年 AI 相关的岗位明显多了",
        "面试官自己也在学，问的问题都差不多",
        "感觉会用 AI 的程序员和不会用的差距越来越大",
        "别焦虑，先把手上的事用 AI 做好就是竞争力",
        "我们组今年招人明确要求会用 AI 编程工具",
        "作品集放 GitHub 上，面试的时候直接打开讲",
    ),
    shares=(
        Share("整理了最近 30 场 AI 应用开发面试题，附参考答案", "file", "AI应用开发面试题汇总.pdf"),
        Share(
            "一份 AI 工程师的学习路线图，按阶段分好了 https://github.com/ai-roadmap-cn/roadmap",
            "link",
        ),
        Share("这篇聊转行 AI 的文章很真实 https://mp.weixin.qq.com/s/p3RkVb8Qz", "link"),
    ),
)
