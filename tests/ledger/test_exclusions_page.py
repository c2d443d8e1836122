"""The 剔除名单 and the ledger page's words, as users read them.

江岸区 has 52 enterprises (江岸001 … 江岸052) and 武昌区 3 (武昌001 … 武昌003). On 2026-11-20
at 15:30 the coordinator 王主任 takes all 55 out of the base as 空壳 on the market regulator's
word. The list shows 50 a page, ordered by unit then name: the coordinator's has 2 pages
(50 + 5), 江岸区's operator sees his 52 (50 + 2); each row says why, who decided and when.

On the demo city (its ledgers bulk-loaded and approved on 08-26 at 18:00) every excluded
enterprise says the same of itself: out of the base for its 经营状态, decided by the
coordinator when he approved the ledgers.
"""

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from campaign import demo
from campaign.core.extensions import db
from campaign.core.vocab import OperatingStatus
from campaign.ledger import services
from campaign.ledger.models import Organization
from tests.conftest import PASSWORD, login, make_campaign, make_org, make_unit, make_user
from tests.timeutil import at, shanghai

REASON = "区市场监管局核实：无经营场所、无员工"


@pytest.fixture
def w(app):
    campaign = make_campaign(2026)
    jiangan = make_unit("jiangan", "江岸区")
    wuchang = make_unit("wuchang", "武昌区")
    wuchang.position = 2
    coordinator = make_user("city", "coordinator")
    coordinator.display_name = "王主任"
    make_user("jiangan-op", "operator", jiangan)
    orgs = [make_org(campaign, jiangan, name=f"江岸{n:03}") for n in range(1, 53)]
    orgs += [make_org(campaign, wuchang, name=f"武昌{n:03}") for n in range(1, 4)]
    with at(2026, 11, 20, 15, 30):
        for org in orgs:
            services.exclude_organization(
                db.session, org, OperatingStatus.SHELL, REASON, coordinator
            )
    db.session.commit()
    return SimpleNamespace(app=app, campaign=campaign)


def rows(html: str) -> list[list[str]]:
    """The cells' text of each row of the list."""
    body = html.split('id="exclusions"', 1)[1].split("</tbody>", 1)[0].split("<tbody>", 1)[1]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def listing(w, username: str, page: int | None = None, password: str = PASSWORD) -> str:
    client = w.app.test_client()
    login(client, username, password)
    query = f"?page={page}" if page else ""
    response = client.get(f"/campaigns/{w.campaign.id}/exclusions{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_list_says_who_decided_and_when_fifty_a_page(w):
    first, second = listing(w, "city"), listing(w, "city", 2)
    assert "不纳入党建基数的组织（55）" in first
    assert "第1/2页" in first and "第2/2页" in second
    assert f'href="/campaigns/{w.campaign.id}/exclusions?page=2">下一页' in first
    assert f'href="/campaigns/{w.campaign.id}/exclusions?page=1">上一页' in second
    page_one, page_two = rows(first), rows(second)
    assert len(page_one) == 50 and len(page_two) == 5
    assert [r[1] for r in page_two] == ["江岸051", "江岸052", "武昌001", "武昌002", "武昌003"]
    unit, name, kind, code, status, reason, decided_by, decided_at = page_one[0][:8]
    assert (unit, name, kind, status) == ("江岸区", "江岸001", "非公企业", "空壳")
    assert (reason, decided_by, decided_at) == (REASON, "王主任", "2026-11-20 15:30")


def test_a_district_operator_pages_through_his_own_units_only(w):
    first, second = listing(w, "jiangan-op"), listing(w, "jiangan-op", 2)
    assert "不纳入党建基数的组织（52）" in first
    assert len(rows(first)) == 50
    assert [r[1] for r in rows(second)] == ["江岸051", "江岸052"]
    assert "武昌" not in first + second


@pytest.fixture
def city(app, demo_city):
    """The demo city of tests/conftest.py."""
    return SimpleNamespace(app=app, campaign=demo_city)


def test_the_demo_says_why_each_enterprise_is_out_who_decided_and_when(city):
    excluded = db.session.scalars(
        select(Organization).where(Organization.in_base.is_(False)).order_by(Organization.id)
    ).all()
    assert excluded  # the demo has some
    for org in excluded:
        label = OperatingStatus(org.operating_status).label
        assert org.exclusion_note == f"台账审核：经营状态为“{label}”", org.name
        assert org.exclusion_decided_by.username == "zhuanban"
        assert org.exclusion_decided_at == shanghai(2026, 8, 26, 18, 0)
    with at(2026, 11, 22, 10):
        html = listing(city, "zhuanban", password=demo.DEMO_PASSWORD)
    shown = rows(html)
    assert len(shown) == min(50, len(excluded))
    assert all(r[5].startswith("台账审核：经营状态为“") for r in shown)
    assert all(r[6:8] == ["市级专班 王主任", "2026-08-26 18:00"] for r in shown)
    assert "（未记录）" not in html


def test_an_approved_ledger_says_so_once(city):
    client = city.app.test_client()
    with at(2026, 11, 22, 10):
        login(client, "jiangan_tianbao", demo.DEMO_PASSWORD)
        html = client.get(f"/campaigns/{city.campaign.id}/units/jiangan/ledger").get_data(
            as_text=True
        )
    note = re.search(r'<p class="small muted" id="ledger-note">([^<]*)</p>', html).group(1)
    assert note.startswith("台账已审核，作为党建基数。再次导入的新增和修改将生成变更申请")
    assert "已已" not in html
