"""How the English Telegram group talks (with the odd Chinese line from members at home)."""

from __future__ import annotations

from qunzhu.demo.lexicon import Lexicon, Share, Topic, qa

_BUILD = Topic(
    questions=(
        qa(
            "What chunk size do you use for RAG? Mine returns garbage with 1000 tokens",
            "Try 300-500 tokens with ~50 overlap, then actually read what the retriever "
            "returns. Big chunks dilute the meaning",
            "Chunk size depends on your docs. For FAQs go small, for manuals go by section",
        ),
        qa(
            "Which embedding model for mixed English/Chinese docs?",
            "bge-m3 handles both well and it's free. text-embedding-3-small if you want an API",
        ),
        qa(
            "How do I get reliable JSON out of the model? It keeps adding explanations",
            "Use structured outputs with a schema, or response_format json_object. Pydantic "
            "models make it painless",
        ),
        qa(
            "Is LangChain still worth learning in 2024?",
            "Learn the concepts, not the framework. LangGraph is nice for stateful agents, "
            "but plain code is fine for most apps",
        ),
        qa(
            "Why does my agent keep calling the same tool forever?",
            "Cap the number of steps and feed the previous tool results back in, so it knows "
            "what it already tried",
        ),
        qa(
            "Ollama or vLLM for serving a 7B model to ~20 users?",
            "vLLM if you need throughput, Ollama if you just want it running in five minutes",
        ),
        qa(
            "How do you handle 429 rate limits from the OpenAI API?",
            "Exponential backoff with jitter, plus a semaphore to limit concurrency",
        ),
        qa(
            "Any good way to evaluate a RAG pipeline without labelling everything by hand?",
            "ragas gets you faithfulness and relevancy scores. Start with 50 hand-written Q&A "
            "pairs, that already tells you a lot",
        ),
        qa(
            "Cursor vs Copilot for a Python backend team?",
            "Cursor for multi-file edits, Copilot if people are on JetBrains. Try both for a week",
        ),
        qa(
            "How do I stream tokens from FastAPI to the browser?",
            "StreamingResponse with text/event-stream and yield chunks, EventSource on the "
            "front end. Turn off proxy buffering in nginx",
        ),
        qa(
            "Does anyone use pgvector in production? Is it fast enough?",
            "We run pgvector with an HNSW index on ~2M rows, queries under 50 ms. Fine unless "
            "you're huge",
        ),
        qa(
            "What's the difference between MCP and function calling?",
            "Function calling is the model feature; MCP standardises how tools are served so "
            "any client can use them",
        ),
        qa(
            "How do I stop prompt injection from user input?",
            "Delimit user content, tell the model to treat it as data, and validate the "
            "output. No silver bullet though",
        ),
    ),
    talk=(
        "Honestly the retrieval part matters way more than the model",
        "Reranking gave us the biggest jump, more than switching embeddings",
        "Agents are great in demos and painful in production",
        "Long context models make small knowledge bases trivial now",
        "Writing good tool descriptions is underrated",
        "We moved from LangChain to plain Python and never looked back",
        "Evaluation is the part everyone skips and then regrets",
    ),
    shares=(
        Share(
            "Great write-up on building effective agents "
            "https://www.anthropic.com/research/building-effective-agents",
            "link",
        ),
        Share("My notes from the RAG workshop, cleaned up", "file", "rag-workshop-notes.pdf"),
        Share(
            "This RAG survey is the best overview I've seen https://arxiv.org/abs/2312.10997",
            "link",
        ),
        Share(
            "Small repo with a minimal RAG starter, FastAPI + pgvector "
            "https://github.com/dliu-dev/rag-starter",
            "link",
        ),
        Share(
            "Prompt engineering guide from OpenAI, worth a reread "
            "https://platform.openai.com/docs/guides/prompt-engineering"
        ),
    ),
)

_CAREER = Topic(
    questions=(
        qa(
            "Anyone here moved from backend to an AI engineer role? How did you do it?",
            "Did exactly that last year. Built two real projects with RAG and evals, that's "
            "what interviewers asked about",
        ),
        qa(
            "What do AI engineer interviews ask these days?",
            "RAG design, evaluation, cost and latency trade-offs, and a lot about your own "
            "projects",
        ),
        qa(
            "Is a master's degree needed for LLM application jobs?",
            "Not for application roles. A portfolio on GitHub matters more",
        ),
        qa(
            "How do you show AI projects on a CV?",
            "Problem, approach, measured result. 'Cut support tickets by 30%' beats a list of "
            "frameworks",
        ),
    ),
    talk=(
        "The job market for AI engineers is still hot in Singapore",
        "Every interview asks about RAG now",
        "Building in public helped me more than certificates",
    ),
    shares=(
        Share(
            "Collected interview questions for AI engineer roles",
            "file",
            "ai-engineer-interview-questions.pdf",
        ),
    ),
)

EN = Lexicon(
    topics={"build": _BUILD, "career": _CAREER},
    ask_open=(
        "",
        "",
        "",
        "Quick question: ",
        "Hi all, ",
        "Newbie question, ",
        "Help 🙏 ",
        "Has anyone tried this? ",
    ),
    ask_close=("", "", "", " Thanks!", " Been stuck for hours 😅", " Any pointers appreciated"),
    answer_open=(
        "",
        "",
        "",
        "I had the same issue. ",
        "From experience: ",
        "Short answer: ",
        "Try this: ",
    ),
    generic_answers=(
        "Can you paste the full error? Hard to say from one line",
        "Check the docs, they changed this in the last release",
        "Make a minimal repro first, usually the bug shows itself",
        "Which version are you on? Sounds like a version mismatch",
    ),
    more=(
        "Adding to that: log every step, it makes debugging much easier",
        "+1 to the above",
        "Also check your versions, bit me last week",
    ),
    thanks=(
        "Thanks, that worked!",
        "Perfect, thank you 🙏",
        "Got it, thanks a lot",
        "That fixed it, you're a lifesaver",
        "Makes sense, thanks!",
        "谢谢!",
    ),
    still=(
        "Still failing, the error changed though",
        "Tried that, no luck 😕",
        "Could you explain a bit more?",
    ),
    fixed=("Solved it, wrong venv 🤦", "Fixed, it was the version after all"),
    me_too=("+1, same question", "Following", "Same here", "Also curious"),
    learned=("TIL", "Good to know", "Saving this", "Nice one 👍"),
    bumps=(
        "Anyone?",
        "Bumping this 🙏",
        "Is anyone still here?",
        "Anyone around to help?",
        "Hello? 👀",
    ),
    share_thanks=(
        "Thanks for sharing!",
        "Bookmarked",
        "Great resource 🙌",
        "Super useful",
        "Saving for the weekend",
    ),
    greetings=(
        "Morning all ☀️",
        "Good morning from Singapore",
        "Hey everyone",
        "早上好!",
        "Happy Monday 😅",
    ),
    goodnight=("Night all 🌙", "Off to bed, see you", "Good night!"),
    scenes=(
        ("Anyone watching the keynote tonight?", "Yes! Live blogging it", "Spoiler: more agents"),
        (
            "Friday finally 🎉",
            "Any weekend projects?",
            "Building a RAG bot for my notes",
            "Nice, share when done",
        ),
        ("Just got my first AI engineer offer!", "Congrats!! 🎉", "Well deserved", "🙌"),
        ("Is it just me or is the API slow today?", "Same here", "Status page says degraded"),
        ("Working from a café today", "Which city?", "Kuala Lumpur ☕", "Jealous"),
        ("How's everyone's week going?", "Busy, shipping a feature", "Slow, lots of meetings"),
        ("Does anyone here live in London?", "I'm in Reading, close enough", "Meetup someday?"),
    ),
    fillers=(
        "lol",
        "haha",
        "+1",
        "👍",
        "true",
        "agreed",
        "nice",
        "😂",
        "same",
        "🙏",
        "this",
        "exactly",
        "哈哈哈",
        "👀",
        "🔥",
    ),
    stickers=("👍", "😂", "🔥", "🙏", "🎉"),
    intros=(
        "Hi all, I'm {name}, {job} from {city}. {goal}",
        "Hello! {job} here, {goal}",
        "Hey everyone 👋 {goal}",
    ),
    goals=(
        "Trying to get into AI engineering.",
        "Building a RAG app at work.",
        "Here to learn and practice my English too 😊",
        "Curious about agents.",
        "Looking for a new job in AI.",
    ),
    welcomes=("Welcome! 👋", "Welcome aboard", "Hi and welcome 🙌", "Welcome!"),
    op_welcome=("Welcome @{name}! Please read the pinned rules and introduce yourself 🙂",),
    red_envelope=("🎁 Giveaway: 3 ChatGPT Plus vouchers for the best project this week",),
    red_thanks=("Nice!", "🙌", "Count me in", "Cool"),
    rule_notices=(
        "Removed. Reminder: no ads or DMs offering services. Report spam to admins.",
        "Spam deleted. Please don't click unknown links.",
    ),
    checkin_notes=(
        "Finished RAG lesson {n}",
        "Refactored a script with Cursor",
        "Read an agent paper",
        "Built a small FastAPI endpoint",
        "Practised prompts for 30 min",
    ),
    checkin_post="#checkin day {n}: {note}",
    image="[photo]",
)

FAREWELL = (
    "Hey all, some news: I'm starting a new job next week and won't have time to look after "
    "this group anymore. It's been a blast answering your questions here. Keep building 🙏",
    "Thanks David!! You carried this group",
    "Good luck with the new job 🙌",
    "Noooo 😢 who's going to answer my RAG questions now",
)
CLOSING = ("Is this group still active?", "Quiet here lately...", "Seems like everyone moved on 😕")
