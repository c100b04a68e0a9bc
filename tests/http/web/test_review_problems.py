"""Review items and sanctions say what kind of problem was found, with the evidence marked
in the message (escaped), instead of the rule's codes and a dict of findings."""

from __future__ import annotations

from qunzhu_tests_http import log_in

from qunzhu.http.web.queries.problems import describe
from qunzhu.store.models import ModerationAction

TEXT = "<img src=x onerror=alert(1)> 加我微信 wx_abc12345 谢谢 13812345678"
WECHAT = "微信 wx_abc12345"


def _findings() -> dict:
    start = TEXT.index(WECHAT)
    return {
        "text": TEXT,
        "findings": [
            {
                "rule": "contact_solicitation",
                "detector": "wechat_id",
                "score": 0.95,
                "evidence": WECHAT,
                "span": [start, start + len(WECHAT)],
            },
            {"rule": "classifier", "detector": "classifier", "score": 0.8, "evidence": TEXT},
        ],
    }


def test_the_evidence_is_cut_out_of_the_message_and_named():
    found = describe("contact_solicitation", "wechat_id", 0.95, _findings(), TEXT, unmasked=True)
    assert [p for p, marked in found.pieces if marked] == [WECHAT]
    assert "".join(p for p, _ in found.pieces) == TEXT
    kinds = [(p.rule_key, p.detector_key, p.evidence) for p in found.problems]
    assert kinds == [
        ("problem.contact_solicitation", "detector.wechat_id", WECHAT),
        ("problem.classifier", None, ""),  # the whole message: nothing to cut out
    ]


def test_masked_viewers_see_the_marks_but_not_the_phone():
    found = describe(
        "contact_solicitation", "phone", 0.9, {"phone": "13812345678"}, TEXT, unmasked=False
    )
    assert "13812345678" not in "".join(p for p, _ in found.pieces)
    assert [p for p, marked in found.pieces if marked] == ["138****5678"]
    assert found.problems[0].rule_key == "problem.contact_solicitation"


def test_review_item_says_what_was_found_and_marks_it_safely(client, acme, personas):
    with personas.store.unit_of_work() as session:
        session.add(
            ModerationAction(
                community_id=personas.communities["acme"],
                member_id=acme["u1"],
                key="problems-1",
                action="flag",
                rule="contact_solicitation",
                detector="wechat_id",
                score=0.95,
                status="pending_review",
                evidence=_findings(),
            )
        )
    log_in(client, "owner")
    page = client.get("/c/acme/review").text
    assert "<mark>微信 wx_abc12345</mark>" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "留联系方式（引流）" in page or "Contact details offered" in page
    assert "{&#39;" not in page and "classifier · classifier" not in page
    assert "rule_label" not in page


def test_today_names_the_kind_of_problem_not_the_rule_code(client, acme):
    log_in(client, "owner")
    client.cookies.set("qz_lang", "zh-CN")
    today = client.get("/c/acme").text
    waiting = today[today.index('id="todo-review"') :]
    assert "留联系方式（引流）" in waiting[:3000]
    assert "规则：contact_solicitation" not in today
