"""The review page says how often flags were right (flag_precision), per detector, with an
empty state before any review — the same figure as ``GET …/moderation/precision``, in
Chinese and English, for this community only."""

from __future__ import annotations

import sys
from pathlib import Path

from qunzhu_tests_http import csrf_from, log_in

from qunzhu.http.i18n import translator
from qunzhu.store.models import ModerationAction

sys.path.insert(0, str(Path(__file__).parent))
from sample_site import figures


def _flag(store, community_id, member_id, key, detector):
    with store.unit_of_work() as session:
        action = ModerationAction(
            community_id=community_id,
            member_id=member_id,
            key=key,
            action="flag",
            rule="classifier" if detector == "classifier" else "contact_solicitation",
            detector=detector,
            score=0.7,
            status="pending_review",
            mode="live",
        )
        session.add(action)
        session.flush()
        return action.id


def test_before_any_review_the_page_says_so(client, acme, personas):
    log_in(client, "moderator")
    page = client.get("/c/acme/review").text
    assert 'id="precision"' in page
    assert translator("zh-CN")("review.precision_empty") in page
    assert ("flag_precision", "acme") not in figures(page)
    api = client.get(
        "/api/v1/communities/acme/moderation/precision", headers=personas["moderator"].headers
    ).json()
    assert api["reviewed"] == 0 and api["precision"] is None


def test_decisions_show_as_precision_per_detector_equal_to_the_api(client, acme, personas):
    store, community = personas.store, personas.communities["acme"]
    ids = [_flag(store, community, acme["u2"], f"f{n}", "classifier") for n in range(3)]
    ids.append(_flag(store, community, acme["u3"], "p1", "phone"))
    log_in(client, "moderator")
    token = csrf_from(client.get("/c/acme/review").text)
    for decision, chosen in (("approve", [ids[0], ids[3]]), ("undo", ids[1:3])):
        client.post(
            "/c/acme/review/decide",
            data={"csrf_token": token, "decision": decision, "ids": [str(i) for i in chosen]},
        )
    page = client.get("/c/acme/review").text
    shown = figures(page)
    api = client.get(
        "/api/v1/communities/acme/moderation/precision", headers=personas["moderator"].headers
    ).json()
    assert (api["approved"], api["undone"], api["reviewed"]) == (2, 2, 4)
    assert float(shown["flag_precision", "acme"]) == api["precision"] == 0.5
    by = {d["detector"]: d for d in api["by_detector"]}
    assert float(shown["flag_precision", "classifier"]) == by["classifier"]["precision"]
    assert float(shown["flag_precision", "phone"]) == by["phone"]["precision"] == 1.0
    zh = translator("zh-CN")
    assert zh("detector.classifier") in page and zh("detector.phone") in page
    assert zh("review.layer_off", slug="acme").split("（")[0] in page
    # the rival's owner sees none of it
    outsider = client.get(
        "/api/v1/communities/rival/moderation/precision", headers=personas["outsider"].headers
    ).json()
    assert outsider["reviewed"] == 0
    assert client.get(
        "/api/v1/communities/acme/moderation/precision",
        headers=personas["outsider"].headers,
    ).status_code in (403, 404)


def test_the_english_page_says_it_in_english(client, acme, personas):
    log_in(client, "moderator")
    client.cookies.set("qz_lang", "en")
    page = client.get("/c/acme/review").text
    assert translator("en")("review.precision_title") in page
