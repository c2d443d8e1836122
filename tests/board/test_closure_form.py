"""The 销号 form as the rules shape it, and what it keeps after a refusal (the browser side:
tests/e2e/test_closure_form.py).

江岸区: 三名党员 (120 staff, 3 formal: must stand alone), 一名党员 (120 staff, 1 formal: a Party
org, joint below 3), 无党员 (10 staff: work coverage), 功能型 (a social organization whose 3
formal members keep their relationship elsewhere).
"""

import io
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from campaign.board import services as board
from campaign.board.inputs import ClosureClaim
from campaign.board.models import BoardItem, Closure
from campaign.core.extensions import db
from tests import documents
from tests.conftest import csrf_token, login, make_campaign, make_org, make_unit, make_user
from tests.timeutil import at


@pytest.fixture
def w(app):
    campaign = make_campaign(2026)
    jiangan = make_unit("jiangan", "江岸区")
    w = SimpleNamespace(
        app=app,
        campaign=campaign,
        operator=make_user("jiangan-op", "operator", jiangan),
        other=make_user("jiangan-op2", "operator", jiangan),
        standalone=make_org(campaign, jiangan, name="三名党员", employees=120, formal=3),
        joint=make_org(campaign, jiangan, name="一名党员", employees=120, formal=1),
        coverage=make_org(campaign, jiangan, name="无党员", employees=10),
        functional=make_org(
            campaign,
            jiangan,
            name="功能型",
            kind="social",
            category="association",
            level="city",
            employees=10,
            formal=3,
            elsewhere=3,
        ),
    )
    board.sync_items(db.session, campaign)
    db.session.commit()
    return w


def url(w, org) -> str:
    item = db.session.scalar(select(BoardItem).where(BoardItem.organization_id == org.id))
    return f"/campaigns/{w.campaign.id}/items/{item.id}"


def methods(html: str) -> tuple[list[str], str]:
    select_ = html.split('id="method"', 1)[1].split("</select>", 1)[0]
    values = re.findall(r'<option value="(\w+)"', select_)
    chosen = re.search(r'<option value="(\w+)" selected', select_)
    assert chosen
    return values, chosen.group(1)


def test_the_form_offers_what_the_rules_allow_and_starts_on_what_they_ask(w):
    client = w.app.test_client()
    login(client, "jiangan-op")
    page = {
        org: client.get(url(w, getattr(w, org))).get_data(as_text=True)
        for org in vars(w)
        if org in ("standalone", "joint", "coverage", "functional")
    }
    assert methods(page["standalone"]) == (["standalone"], "standalone")
    assert methods(page["joint"]) == (["standalone", "joint"], "joint")
    assert methods(page["coverage"]) == (["standalone", "joint", "work_coverage"], "work_coverage")
    assert methods(page["functional"]) == (["standalone", "functional"], "standalone")
    # Each field says which methods ask for it (the page shows it only for those).
    assert 'data-methods="work_coverage"><label for="instructor">' in page["coverage"]
    assert 'data-methods="joint"><label for="c_joint_form">' in page["coverage"]


def test_a_refused_closure_keeps_what_was_entered_and_the_file_for_its_owner_only(w):
    storage = Path(w.app.config["STORAGE_PATH"])
    with at(2026, 11, 20, 10, 0):
        client = w.app.test_client()
        login(client, "jiangan-op")
        target = url(w, w.joint)
        sent = {
            "csrf_token": csrf_token(client, target),
            "action": "close",
            "method": "joint",
            "party_org_name": "",
            "formal_members": "1",
            "secretary": "周书记",
            "established_on": "2026-10-09",
            "covered_codes": "",
            "document": (io.BytesIO(documents.pdf("批复")), "联合批复.pdf"),
        }
        refused = client.post(target, data=sent, content_type="multipart/form-data")
        assert refused.status_code == 422
        html = refused.get_data(as_text=True)
        # Both problems at once, each beside its field; what was typed is still there.
        assert 'id="error-party_org_name"' in html and 'id="error-joint_form"' in html
        assert 'value="周书记"' in html and 'value="2026-10-09"' in html
        assert "已选文件：<strong>联合批复.pdf</strong>" in html
        token = re.search(r'name="held_document" value="([^"]+)"', html).group(1)
        assert db.session.scalar(select(func.count()).select_from(Closure)) == 0

        # Another operator cannot file with this operator's held file.
        intruder = w.app.test_client()
        login(intruder, "jiangan-op2")
        stolen = {**sent, "csrf_token": csrf_token(intruder, target), "held_document": token}
        stolen.update(party_org_name="联合党支部", joint_form="区域联建")
        del stolen["document"]
        answer = intruder.post(target, data=stolen, content_type="multipart/form-data")
        assert "请上传批复文件" in answer.get_data(as_text=True)

        fixed = {**sent, "csrf_token": csrf_token(client, target), "held_document": token}
        fixed.update(party_org_name="联合党支部", joint_form="区域联建")
        del fixed["document"]
        done = client.post(target, data=fixed, content_type="multipart/form-data")
        assert done.status_code == 302
    closure = db.session.scalar(select(Closure))
    assert (closure.document_name, closure.secretary) == ("联合批复.pdf", "周书记")
    assert (storage / closure.document_path).read_bytes() == documents.pdf("批复")
    assert not list((storage / "held").iterdir())  # the held copy is gone once filed


def test_the_document_is_shown_inline_only_as_what_it_is_and_only_to_its_unit(w):
    storage = Path(w.app.config["STORAGE_PATH"])
    wuchang = make_unit("wuchang", "武昌区")
    make_user("wuchang-op", "operator", wuchang)
    make_user("city", "coordinator")
    db.session.commit()
    with at(2026, 11, 20, 10, 0):
        client = w.app.test_client()
        login(client, "jiangan-op")
        target = url(w, w.coverage)
        client.post(
            target,
            data={
                "csrf_token": csrf_token(client, target),
                "action": "close",
                "method": "work_coverage",
                "instructor": "张伟",
                "document": (io.BytesIO(documents.pdf("批复")), "批复.pdf"),
            },
            content_type="multipart/form-data",
        )
    closure = db.session.scalar(select(Closure))
    address = f"/campaigns/{w.campaign.id}/closures/{closure.id}/document"
    for who in ("jiangan-op", "city"):
        reader = w.app.test_client()
        login(reader, who)
        shown = reader.get(address)
        assert shown.status_code == 200, who
        assert shown.headers["Content-Type"] == "application/pdf"
        assert shown.headers["Content-Disposition"].startswith("inline")
        assert "object-src 'self'" in shown.headers["Content-Security-Policy"]
        assert shown.get_data() == documents.pdf("批复")
        shown.close()
    outsider = w.app.test_client()
    login(outsider, "wuchang-op")
    assert outsider.get(address).status_code == 404
    # A file changed on disk behind the app's back is no PDF any more: never shown as one.
    (storage / closure.document_path).write_bytes(b"<html><script>alert(1)</script></html>")
    answer = client.get(address)
    assert answer.headers["Content-Disposition"].startswith("attachment")
    assert "object-src 'none'" in answer.headers["Content-Security-Policy"]
    answer.close()


def test_a_draw_with_its_seed_left_empty_draws_one(w):
    make_user("city", "coordinator")
    with at(2026, 11, 20, 10, 0):
        for org in (w.coverage,):
            item = db.session.scalar(select(BoardItem).where(BoardItem.organization_id == org.id))
            claim = ClosureClaim.from_form({"method": "work_coverage", "instructor": "张伟"})
            board.submit_closure(
                db.session,
                item,
                claim,
                ("批复.pdf", documents.pdf("批复")),
                w.operator,
                Path(w.app.config["STORAGE_PATH"]),
            )
            board.verify_closure(db.session, item, w.operator)
        db.session.commit()
        client = w.app.test_client()
        login(client, "city")
        page = f"/campaigns/{w.campaign.id}/spot-checks"
        answer = client.post(
            page,
            data={"csrf_token": csrf_token(client, page), "mode": "count", "size": "1", "seed": ""},
        )
    assert answer.status_code == 302 and "/spot-checks/" in answer.headers["Location"]
