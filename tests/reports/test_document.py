"""The bulletin as a 公文 (GB/T 9704-2012) stating one set of numbers (issue 18, parts 2-4).

Part 2, one set of numbers: on the demo, every number the PDF prints is found in its
snapshot (a count, a rate as printed, a change, a date, a rank) or is the page's own (page
number, item number); the city's gap to the target is one figure wherever it is said; the
table's 合计 is the sum of its rows; and the overview page at the same moment shows the same
figures. Part 3, the document's form, on hand-made snapshots and the hand-worked ledger of
test_bulletin. Part 4, the figures the plan sets targets for, worked out by hand.
"""

import copy
import gc
import io
import json
import re
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pypdf
import pytest
import weasyprint
from sqlalchemy import select
from weasyprint.text.fonts import FontConfiguration

from campaign import demo
from campaign.core.extensions import db
from campaign.core.models import Campaign, User
from campaign.core.storage import resolve
from campaign.core.vocab import Role
from campaign.half_monthly import services as half_monthly
from reports import render, services, snapshot
from tests.conftest import login
from tests.reports.test_bulletin import (  # noqa: F401 (w, sixth, utc_machine_zone: fixtures)
    AFTER_6,
    DAY_6,
    flat,
    publish,
    row,
    sixth,
    utc_machine_zone,
    w,
)
from tests.timeutil import at, shanghai

RED = "0.752941 0 0 rg"  # #c00000 as the PDF sets the fill colour (192 / 255)


def text_of(data: bytes, *options: str) -> str:
    args = ["pdftotext", "-enc", "UTF-8", *options, "-", "-"]
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout.decode()


def pages_of(data: bytes) -> list[str]:
    return text_of(data, "-layout").split("\f")[:-1]


# ---- the demo: one set of numbers ----------------------------------------------------------


@pytest.fixture
def demo_bulletin(built_once):
    """The demo's 第2期 as the scheduler would make it at the 11-10 cut-off, the clock stopped
    there: the demo city as of 11-10, and its 第1期 (10-25) as the bulletin before. Built (and
    drawn) once per process, the city copied back for each test (tests/conftest.py)."""
    campaign_id, data, pdf = built_once("tests.reports.document.demo_bulletin", _demo_bulletin)
    return db.session.get_one(Campaign, campaign_id), data, pdf


def _demo_bulletin():
    with at(2026, 11, 10, 18, 0):
        campaign = demo.load(db.session, today=date(2026, 11, 10), size=0.02)
        db.session.commit()
        campaign = db.session.scalar(select(Campaign).where(Campaign.id == campaign.id))
        periods = {p.due_on: p for p in half_monthly.periods(campaign)}
        first = snapshot.build(
            db.session, campaign, periods[date(2026, 10, 25)], 1, shanghai(2026, 10, 25, 18), []
        )
        data = snapshot.build(
            db.session,
            campaign,
            periods[date(2026, 11, 10)],
            2,
            shanghai(2026, 11, 10, 18),
            [first],
        )
    data = json.loads(json.dumps(data))  # as stored
    pdf = render.pdf(render.html(data))
    return campaign.id, data, pdf


def _values(value, out: set[str]) -> None:
    """Every number a snapshot holds, in the forms a reader sees it printed."""
    if isinstance(value, dict):
        for v in value.values():
            _values(v, out)
    elif isinstance(value, list):
        for v in value:
            _values(v, out)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        out.add(str(value))
    elif isinstance(value, float):
        out.add(f"{value * 100:.1f}")  # a rate, printed as a percentage
    elif isinstance(value, str):
        # Dates (2026-11-10: 2026年11月10日, 11月10日), times (18:00), target settings
        # ("80.00": 80), digits inside names (附表1).
        if re.fullmatch(r"\d+\.\d+", value):
            out.add(f"{Decimal(value).normalize():f}")
        for digits in re.findall(r"\d+", value):
            out.add(digits)
            out.add(str(int(digits)))
        for hh, mm in re.findall(r"T(\d\d):(\d\d)", value):
            out.add(f"{hh}:{mm}")


def printable_numbers(data: dict, pages: int) -> set[str]:
    out: set[str] = set()
    _values(data, out)
    # Changes: the city's and each unit's coverage against the bulletin before (percentage
    # points, signed in the table, in words in the text), and ranks gained or lost.
    for u in [*data["units"], data["overall"]]:
        now, before = u["party_org_coverage"], u["previous_coverage"]
        if now is not None and before is not None:
            delta = round((now - before) * 100, 1)
            out |= {f"{delta:+.1f}", f"{abs(delta):.1f}"}
    for u in data["units"]:
        if u.get("previous_rank") is not None:
            out.add(str(abs(u["previous_rank"] - u["rank"])))
    # The page's own numbers: page numbers, the items of 下步工作要求, 图1 and 图2, and the
    # charts' scales (图1's coverage axis every 25 %, 图2's every 20 %, both 0 to 100).
    out |= {str(n) for n in range(1, max(pages, len(data["requirements"]), 2) + 1)}
    out |= {str(n) for n in (*range(0, 101, 25), *range(0, 101, 20))}
    return out


def test_every_number_of_the_demo_bulletin_is_a_field_of_its_snapshot(demo_bulletin):
    _, data, pdf = demo_bulletin
    text = text_of(pdf.data, "-layout")
    # The report deadline of the day (当日24时) is the rule of the half-monthly report, not a
    # figure; everything else is read from the snapshot.
    counted = text.replace("24时", "时")
    printed = re.findall(r"[+-]?\d+(?:\.\d+)?", counted)
    assert len(printed) > 200  # the whole document was read
    known = printable_numbers(data, pdf.pages)
    strange = sorted({n for n in printed if n not in known and n.lstrip("+") not in known})
    assert strange == []


def test_the_city_gap_is_one_figure_and_the_totals_are_the_sums_of_their_rows(demo_bulletin):
    _, data, pdf = demo_bulletin
    text = text_of(pdf.data, "-layout")
    whole = flat(text)
    units, o = data["units"], data["overall"]

    # Worked out here from the counts: 80% of the city's base, rounded up, less its Party orgs.
    base, built = o["counts"]["base"], o["counts"]["with_party_org"]
    city_gap = -(-base * 80 // 100) - built
    assert city_gap > 0, "the demo city is below 80% on 11-10"
    said = re.findall(r"全市距80%的目标还需组建(\d+)个", whole)
    said += re.findall(r"全市距目标还需组建(\d+)个", whole)
    said += re.findall(r"距80%的目标还需组建(\d+)个党组织", whole)
    assert said and set(said) == {str(city_gap)}, said
    # Each unit's gap is labelled as the unit's own, and no sum of them is printed.
    below = [u for u in units if u["counts"]["with_party_org"] * 100 < 80 * u["counts"]["base"]]
    own = {
        u["name"]: -(-u["counts"]["base"] * 80 // 100) - u["counts"]["with_party_org"]
        for u in below
    }
    assert sum(own.values()) != city_gap  # the demo shows why they differ
    assert "本单位距目标" in whole and "不是下表各单位之和" in whole
    assert str(sum(own.values())) + "个" not in whole
    for u in below:
        assert row(
            text,
            u["name"],
            str(u["counts"]["base"]),
            str(u["counts"]["with_party_org"]),
            f"{u['party_org_coverage'] * 100:.1f}%",
            str(own[u["name"]]),
        ), u["name"]

    # The ranking's 合计: 党建基数, 本期新建 and 逾期事项 add up the rows above it.
    lines = [line.split() for line in text.splitlines()]
    names = {u["name"] for u in units}
    rows = [cells for cells in lines if len(cells) == 10 and cells[2] in names]
    assert sorted(cells[2] for cells in rows) == sorted(names)
    total = next(cells for cells in lines if cells[:1] == ["全市合计"])
    for column, cell in ((3, 1), (4, 2), (9, 7)):
        assert int(total[cell]) == sum(int(cells[column]) for cells in rows)
    assert int(total[1]) == base


def test_the_overview_at_the_cut_off_shows_the_figures_of_the_bulletin(demo_bulletin, client):
    campaign, data, pdf = demo_bulletin
    text = text_of(pdf.data, "-layout")
    with at(2026, 11, 10, 18, 30):  # nothing changed since the cut-off
        login(client, _coordinator(), demo.DEMO_PASSWORD)
        page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    table = page.split('id="unit-figures"', 1)[1].split("</table>", 1)[0]
    cells = {}
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)[1:]:
        tds = [re.sub(r"<[^>]+>|\s", "", td) for td in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        cells[tds[0]] = tds
    for u in data["units"]:
        shown = cells[u["name"]]
        assert shown[1:3] == [str(u["counts"]["base"]), str(u["counts"]["with_party_org"])]
        coverage = f"{u['party_org_coverage'] * 100:.1f}%"
        assert shown[3] == coverage and coverage in text
        assert shown[-1] == (str(u["gap"]) if u["gap"] else "")
    total = cells["全市合计"]
    assert total[1:4] == [
        str(data["overall"]["counts"]["base"]),
        str(data["overall"]["counts"]["with_party_org"]),
        f"{data['overall']['party_org_coverage'] * 100:.1f}%",
    ]
    # The city's gap, the same figure as the bulletin's, and said not to be the rows' sum.
    assert total[-1] == str(data["overall"]["gap"])
    assert f"全市距80%的目标还需组建{data['overall']['gap']}个" in flat(text)
    assert "全市合计行按全市党建基数计算" in page
    # The figures of the campaign's rules (seed 004: 50人 有党员, 100人 有党组织), as the bulletin
    # says them, in place of the two hard-wired columns.
    assert "人以上<br>有党员率" not in table
    rules = page.split('id="rule-figures"', 1)[1].split("</table>", 1)[0]
    assert [f["name"] for f in data["rule_figures"]] == [
        "50人以上企业有党员率",
        "100人以上企业有党组织率",
    ]
    for f in data["rule_figures"]:
        assert f"<td>{f['covered']}</td><td>{f['met']}</td>" in rules


def _coordinator() -> str:
    return db.session.scalar(select(User.username).where(User.role == Role.COORDINATOR).limit(1))


# ---- the form of the document (GB/T 9704-2012) ---------------------------------------------


def test_the_hand_worked_bulletin_is_laid_out_as_a_gongwen(sixth):  # noqa: F811
    bulletin = sixth
    data = json.loads(bulletin.snapshot)
    pdf = db.session.get(type(bulletin), bulletin.id)
    raw = resolve(pdf.pdf_path).read_bytes()
    pages = pages_of(raw)
    first = flat(pages[0])

    # 发文机关标志 in red at the head of the first page, then the 发文字号 it was published with.
    assert first.startswith("中共武汉市委组织部文件武组专〔2026〕1号关于全市")
    reader = pypdf.PdfReader(io.BytesIO(raw))
    assert RED in reader.pages[0].get_contents().get_data().decode("latin-1")
    # The title breaks between names only: "集中组建" and "“百日攻坚行动”" stay whole.
    title_lines = [line.strip() for line in text_of(raw, "-l", "1").splitlines() if line.strip()]
    assert title_lines[2:5] == [
        "关于全市“两新”组织党组织集中组建",
        "“百日攻坚行动”工作进展情况的通报",
        "（第6期）",
    ]

    # The last page is even and carries the 版记 at its foot: 印发机关 and 印发日期.
    assert len(pages) % 2 == 0
    last = [line.strip() for line in pages[-1].splitlines() if line.strip()]
    assert re.fullmatch(r"中共武汉市委组织部\s+2026年11月10日印发", last[-2])
    assert last[-1] == f"— {len(pages)} —"
    # 附件说明, 署名 and 成文日期 (Arabic numerals, no leading zeros) after the text.
    whole = flat(text_of(raw))
    assert "附件：本期销号、逾期事项及各单位情况清单中共武汉市委组织部2026年11月10日" in whole

    # Page numbers "— N —": right on odd pages, left on even ones.
    boxes = text_of(raw, "-bbox")
    for n in range(1, len(pages) + 1):
        page = boxes.split("<page ")[n]
        width = float(re.search(r'width="([\d.]+)"', page).group(1))
        xs = [
            float(x)
            for x, word in re.findall(r'<word xMin="([\d.]+)"[^>]*>([^<]+)</word>', page)
            if word == str(n)
        ]
        number_x = xs[-1]  # the page number is the page's last word
        assert (number_x > width / 2) == (n % 2 == 1), (n, number_x, width)

    # The body is set in FandolFang (仿宋, digits too), the title in FandolSong Bold.
    fonts = subprocess.run(
        ["pdffonts", str(resolve(bulletin.pdf_path))], capture_output=True, text=True, check=True
    ).stdout
    assert "FandolFang" in fonts and "FandolSong-Bold" in fonts
    assert data["version"] == 4


def document(**changes) -> dict:
    """A small hand-made snapshot of version 3: three units, the middle one behind target."""

    def unit(code, name, position, base, built, rank, previous_rank, before):
        return {
            "code": code,
            "name": name,
            "position": position,
            "counts": {"base": base, "with_party_org": built, "standalone": 0},
            "party_org_coverage": built / base,
            "work_coverage": 1.0,
            "required_coverage": 1.0,
            "standalone_rate": 0.0,
            "member_rate": None,
            "party_org_rate_by_size": None,
            "new_party_orgs": 0,
            "previous_coverage": before,
            "previous_rank": previous_rank,
            "overdue_items": 0,
            "open_items": 0,
            "awaiting_items": 0,
            "closed_items": 0,
            "closures_verified": 0,
            "gap": max(0, -(-base * 80 // 100) - built),
            "reaches": built * 100 >= 80 * base,
            "rank": rank,
            "bottom_streak": 0,
        }

    counts = {
        "base": 30,
        "with_party_org": 25,
        "standalone": 10,
        "work_covered": 30,
        "required": 10,
        "required_met": 10,
        "member_required": 4,
        "member_required_met": 3,
        "party_org_required_by_size": 2,
        "party_org_required_by_size_met": 1,
    }
    rates = {
        "party_org_coverage": 25 / 30,
        "work_coverage": 1.0,
        "required_coverage": 1.0,
        "standalone_rate": 0.4,
        "member_rate": 0.75,
        "party_org_rate_by_size": 0.5,
    }
    data = {
        "version": 3,
        "campaign": {
            "id": 1,
            "name": "某市非公有制经济组织和社会组织党组织集中组建“清零行动”（2027年）",
            "city_name": "某市",
            "issuing_body": "中共某市委组织部",
            "year": 2027,
            "target_party_org_coverage": "80.00",
            "target_required_coverage": "100.00",
            "named_units": 3,
            "subject": "“两新”组织党组织集中组建“清零行动”",
            "action": "“清零行动”",
            "member_required_employees": 50,
            "party_org_required_employees": 100,
        },
        "addressees": "各区委组织部",
        "number": 3,
        "title": "关于全市“两新”组织党组织集中组建“清零行动”工作进展情况的通报（第3期）",
        "period": {"starts_on": "2027-09-11", "due_on": "2027-09-25"},
        "cutoff": "2027-09-25T18:00+08:00",
        "generated_at": "2027-09-25T18:00+08:00",
        "build_deadline": "2027-11-20",
        "days_left": 56,
        "phases_in_force": [],
        "next_phase": None,
        "overall": {
            "counts": counts,
            **rates,
            "new_party_orgs": 0,
            "previous_coverage": 0.8,
            "gap": 0,
            "reaches": True,
            "overdue_items": 0,
            "open_items": 0,
            "awaiting_items": 0,
            "closures_verified": 0,
        },
        "units": [
            unit("a", "甲区", 1, 10, 10, 1, 3, 0.7),
            unit("c", "丙区", 3, 10, 9, 2, 2, 0.9),
            unit("b", "乙区", 2, 10, 6, 3, 1, 1.0),
        ],
        "by_kind": {
            "enterprise": {
                "counts": {**counts, "base": 20, "with_party_org": 16, "standalone": 8},
                **rates,
                "party_org_coverage": 0.8,
            },
            "social": {
                "counts": {**counts, "base": 10, "with_party_org": 9, "standalone": 2},
                **rates,
                "party_org_coverage": 0.9,
            },
        },
        "deliverables": {"overdue": [], "late": []},
        "reports": {
            "due_on": "2027-09-25",
            "on_time": ["甲区", "乙区", "丙区"],
            "late": [],
            "returned": [],
            "missing": [],
            "waiting": [],
        },
        "spot_checks": [],
        "trend": [
            {"number": 1, "due_on": "2027-08-25", "coverage": 0.5},
            {"number": 2, "due_on": "2027-09-10", "coverage": 0.8},
            {"number": 3, "due_on": "2027-09-25", "coverage": 25 / 30},
        ],
    }
    data["requirements"] = snapshot.requirements(data)
    for key, value in changes.items():
        data[key] = value
    return data


def test_the_document_number_and_the_signing_day_are_printed_when_there_are_some():
    signed = document(document_number="某组专〔2027〕3号", signed_on="2027-09-26")
    whole = flat(text_of(render.pdf(render.html(signed)).data))
    assert whole.startswith("中共某市委组织部文件某组专〔2027〕3号关于全市")
    # 成文日期 as signed, in Arabic numerals (GB/T 9704-2012 7.3.5.3); 印发 the day it is signed.
    assert "中共某市委组织部2027年9月26日" in whole
    pages = pages_of(render.pdf(render.html(signed)).data)
    # No page holds the 署名 and 成文日期 alone (GB/T 9704 7.3.5): the last item is with them.
    signing = next(page for page in pages if "2027年9月26日" in page)
    assert "坚决防止做假账" in flat(signing)
    last = [line.split() for line in pages[-1].splitlines()]
    assert [cells for cells in last if cells][-2] == ["中共某市委组织部", "2027年9月26日印发"]

    draft = flat(text_of(render.pdf(render.html(document())).data))
    assert draft.startswith("中共某市委组织部文件关于全市“两新”组织")
    assert "〔" not in draft
    assert "中共某市委组织部2027年9月25日" in draft


def test_the_campaigns_own_texts_name_it_and_nothing_else_does():
    whole = flat(text_of(render.pdf(render.html(document())).data))
    assert "各区委组织部：按照“清零行动”工作安排" in whole
    assert "百日" not in whole and "武汉" not in whole


def test_the_ranking_shows_the_change_of_place_and_of_coverage():
    text = text_of(render.pdf(render.html(document())).data, "-layout")
    # 甲区 from 3rd to 1st, 丙区 stays 2nd, 乙区 from 1st to 3rd; coverage against before.
    assert row(text, "1", "↑2", "甲区", "10", "0", "100.0%", "+30.0", "100.0%", "100.0%", "0")
    assert row(text, "2", "—", "丙区", "10", "0", "90.0%", "持平", "100.0%", "100.0%", "0")
    assert row(text, "3", "↓2", "乙区", "10", "0", "60.0%", "-40.0", "100.0%", "100.0%", "0")
    whole = flat(text)
    assert "加粗" not in whole
    # Everyone reported on time: said once, as a person would.
    assert "9月25日半月进展情况，各单位均已按时报送。" in whole
    assert "全部按时报送" not in whole
    # Nothing awaits verification: no "0个…待核验" sentence.
    assert "待核验" not in whole


def test_a_version_2_snapshot_still_renders():
    old = document()
    old["version"] = 2
    for key in ("addressees", "by_kind"):
        del old[key]
    for key in ("subject", "action", "member_required_employees", "party_org_required_employees"):
        del old["campaign"][key]
    for u in old["units"]:
        del u["previous_rank"]
    whole = flat(text_of(render.pdf(render.html(copy.deepcopy(old))).data))
    assert "各区委组织部，市直机关工委，市民政局：按照“百日攻坚行动”工作安排" in whole
    assert "非公企业和社会组织" not in whole


# ---- the figures the plan sets targets for (part 4) -----------------------------------------


def test_the_plans_figures_by_kind_and_size_worked_out_by_hand(sixth):  # noqa: F811
    bulletin = sixth
    text = text_of(resolve(bulletin.pdf_path).read_bytes(), "-layout")
    # At 11-10, in the base: enterprises 武昌甲 丙 丁, 江岸甲 乙 丁 (6), with a Party org 武昌丁
    # (10-20), 江岸甲, 江岸乙 (11-05): 3 = 50.0%; standalone 2; work coverage adds 江岸丁's
    # 指导员: 4 = 66.7%; 应建 (应单独组建, 应建党组织) 武昌甲 丁, 江岸甲: 3, met 2 = 66.7%.
    # Social organizations 武昌乙 (联合), 江岸丙 (功能型): 2 of 2; 武昌乙 must have one: 1 of 1.
    # 50 staff or more: 武昌甲 (150), 武昌丁 (80), 江岸甲 (120), 江岸乙 (60): 4, with a member
    # and the Party's work: all but 武昌甲: 3 = 75.0%. 100 or more: 武昌甲, 江岸甲 (江岸戊 is a
    # shell, out of the base): 2, with a Party org: 江岸甲: 1 = 50.0%.
    assert (
        "非公企业6个，已建立党组织3个，党组织覆盖率50.0%；社会组织2个，已建立党组织2个，"
        "党组织覆盖率100.0%。职工50人以上的非公企业4个，有党员的3个，有党员率75.0%；"
        "职工100人以上的非公企业2个，已建立党组织的1个，有党组织率50.0%。"
    ) in flat(text)
    assert row(text, "非公企业", "6", "3", "50.0%", "2", "66.7%", "3", "2", "66.7%")
    assert row(text, "社会组织", "2", "2", "100.0%", "0", "100.0%", "1", "1", "100.0%")
    assert row(text, "合计", "8", "5", "62.5%", "2", "75.0%", "4", "3", "75.0%")


# With 32 units the page breaks right before 合计, with 33 before the last row and 合计:
# without the keep rules (tbody tr.keep, tr.total) 合计, or a row and 合计, stand alone.
@pytest.mark.parametrize("n", [32, 33])
def test_a_long_ranking_leaves_no_lone_row_and_no_lone_total_on_a_page(n):
    data = document()
    template = data["units"][0]
    data["units"] = [
        {**template, "code": f"u{i}", "name": f"第{i}区", "position": i, "rank": i}
        for i in range(1, n + 1)
    ]
    pdf = render.pdf(render.html(data))
    names = {u["name"] for u in data["units"]}
    per_page = []
    for page in pages_of(pdf.data):
        rows = [line.split() for line in page.splitlines()]
        ranking = [cells for cells in rows if len(cells) == 10 and cells[2] in names]
        total = any(cells[:1] == ["全市合计"] for cells in rows)
        if ranking or total:
            per_page.append((len(ranking), total))
    assert len(per_page) >= 2, "the ranking runs over a page break"
    assert sum(rows for rows, _ in per_page) == n
    # No page holds a single row of the table, and 合计 stands under at least two rows.
    assert all(rows >= 2 for rows, _ in per_page), per_page
    assert [total for _, total in per_page] == [False] * (len(per_page) - 1) + [True]


def test_a_report_day_when_no_unit_has_reported_yet_says_so_once():
    reports = {
        "due_on": "2027-09-25",
        "on_time": [],
        "late": [],
        "returned": [],
        "missing": [],
        "waiting": ["甲区", "乙区", "丙区"],
    }
    data = document(reports=reports)
    data["requirements"] = snapshot.requirements(data)
    assert "各单位请于9月25日24时前完成本期半月报送。" in data["requirements"]
    whole = flat(text_of(render.pdf(render.html(data)).data))
    assert "9月25日半月进展情况，截至通报时（18:00）各单位尚未报送，报送截止为当日24时。" in whole
    assert "0个单位" not in whole and "甲区、乙区、丙区" not in whole

    # One unit late, the others on time: the count of those on time, the late one named.
    data = document(
        reports={**reports, "waiting": [], "on_time": ["甲区", "丙区"], "late": ["乙区"]}
    )
    whole = flat(text_of(render.pdf(render.html(data)).data))
    assert "9月25日半月进展情况，截至18:00，2个单位已按时报送，乙区迟报。" in whole


def test_an_imprint_on_its_own_page_is_the_document_laid_out_with_it_there(monkeypatch):
    # The hand-made snapshot's text ends on page 5, an odd one: the 版记 goes to page 6, alone.
    html = render.html(document())
    moved = []
    own_page = render._imprint_on_its_own_page
    monkeypatch.setattr(
        render,
        "_imprint_on_its_own_page",
        lambda rendered, *args: moved.append(len(rendered.pages)) or own_page(rendered, *args),
    )
    made = render.pdf(html)
    assert moved == [5]  # the first layout's pages
    # render.pdf sets only the 版记's page again; the PDF is the one a second layout of the
    # whole document with the 版记 on the next even page gives, to the byte (bulletin verify).
    again = weasyprint.HTML(string=html.replace(render.IMPRINT, render.IMPRINT_OWN_PAGE, 1))
    assert made.data == again.render().write_pdf()
    pages = pages_of(made.data)
    assert made.pages == len(pages) == 6
    last = [line.split() for line in pages[-1].splitlines() if line.strip()]
    assert last == [["中共某市委组织部", "2027年9月25日印发"], ["—", "6", "—"]]
    assert "2027年9月25日印发" not in pages[4] and "— 5 —" in pages[4]


def test_a_kept_font_configuration_gives_the_same_pdf_in_a_row_and_in_two_threads():
    # Each thread keeps its font configuration from one render to the next (render._faces):
    # the second render of a thread, and two renders at once in two threads, give the PDF a
    # render with a configuration of its own gives, to the byte (bulletin verify relies on it).
    html = render.html(document())
    alone = weasyprint.HTML(string=html.replace(render.IMPRINT, render.IMPRINT_OWN_PAGE, 1))
    expected = alone.render(font_config=FontConfiguration()).write_pdf()
    in_a_row = [render.pdf(html).data for _ in range(2)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        at_once = [made.data for made in pool.map(render.pdf, [html, html])]
    assert in_a_row + at_once == [expected] * 4


def test_a_render_s_leftovers_are_collected_once_its_bulletin_is_published(w):  # noqa: F811
    # render.long_lived_frozen: the process's objects are left out of the cycle collector
    # while a bulletin is produced, and what its render leaves (its boxes hold cycles) is
    # collected before they return. A production holds it from its gather to its
    # publication: the leftovers wait for the publishing commit, then none is left.
    heard = {}

    def progress(step: str, percent: int) -> None:
        heard[step] = (gc.get_freeze_count(), _boxes())

    assert gc.get_freeze_count() == 0
    gc.collect()
    before = _boxes()  # boxes other tests' objects still hold
    bulletin = services.generate(
        db.session, w.campaign, DAY_6, w.settings, "cli", moment=AFTER_6, progress=progress
    )
    assert bulletin.status == "published"
    frozen, boxes = heard["完成"]  # published: committed, and still frozen
    assert frozen > 0 and boxes > before
    assert gc.get_freeze_count() == 0
    assert _boxes() == before
    # Alone, a render freezes and collects by itself.
    render.pdf(render.html(document()))
    assert gc.get_freeze_count() == 0
    assert _boxes() == before


def test_two_productions_at_once_keep_the_process_frozen_until_both_end():
    # The freeze is the process's: a render that ends while another thread's production
    # goes on leaves it frozen; the last to end collects and thaws.
    html = render.html(document())
    gc.collect()
    before = _boxes()  # boxes other tests' objects still hold
    first_in, second_done, first_out = (threading.Event() for _ in range(3))
    seen = []

    def production() -> None:
        with render.long_lived_frozen():
            first_in.set()
            second_done.wait(60)
            seen.append(gc.get_freeze_count())
        first_out.set()

    thread = threading.Thread(target=production)
    thread.start()
    first_in.wait(60)
    render.pdf(html)  # another thread's render, begun and ended meanwhile
    seen.append(gc.get_freeze_count())
    second_done.set()
    first_out.wait(60)
    thread.join()
    assert seen[0] > 0 and seen[1] > 0  # frozen all along
    assert gc.get_freeze_count() == 0
    assert _boxes() == before


def _boxes() -> int:
    """WeasyPrint's laid-out boxes the cycle collector still tracks."""
    return sum(
        1 for o in gc.get_objects() if type(o).__module__ == "weasyprint.formatting_structure.boxes"
    )
