"""The bulletin (通报, DOMAIN.md §8): its figures, its PDF and fonts, its snapshot, once only.

Campaign 2026 from the wuhan-2016 template: report days 08-25, 09-10, 09-25, 10-10, 10-25,
11-10, 11-25, 12-10, 12-25, so the bulletin after 2026-11-10 is 第6期 (period 10-26 to 11-10)
and the one after 11-25 is 第7期 (11-11 to 11-25). The cut-off is the report day at 18:00
Beijing time; 集中组建 ends on 11-20 (10 days after 11-10).

The ledger, worked out by hand (Party orgs count from their founding day, DOMAIN.md §6):

  武昌区 (position 1)
    武昌甲  enterprise, 150 staff, nothing                -> must have a Party org, has none
    武昌乙  law firm, 2 formal, 联合组建 (2026-09-01)     -> must have one, has it
    武昌丙  enterprise, 30 staff, 1 formal, nothing        -> work coverage only; in the second
            test it joins a 联合组建 Party org founded 2026-11-15
    武昌丁  enterprise, 80 staff, 3 formal, 单独组建 (2026-10-20) -> must stand alone, does
  江岸区 (position 2)
    江岸甲  enterprise, 120 staff, 3 formal, 单独组建 (2026-06-01) -> must stand alone, does
    江岸乙  enterprise, 60 staff, 1 formal, 联合组建 (2026-11-05: new in 第6期)
    江岸丙  social org, 功能型 Party org (2026-09-01)
    江岸丁  enterprise, 20 staff, nothing but a 指导员 (work coverage)
    江岸戊  空壳 enterprise with a 单独组建 Party org: out of the base, counts nowhere
  二七街道  a street of 江岸区: not a responsible unit, never ranked

At the 11-10 cut-off:
  江岸区 base 4, Party orgs 3 (甲 乙 丙) = 75.0%; on 10-25 it was 2 (乙 not yet) = 50.0%, +25.0;
         work coverage 4/4 = 100.0%; must have a Party org 1 (甲), met 1 = 100.0%; new 1.
  武昌区 base 4, Party orgs 2 (乙 丁) = 50.0%; 10-25 also 50.0%: 持平;
         work coverage 2/4 = 50.0%; must 3 (甲 乙 丁), met 2 = 66.7%; new 0.
  全市   base 8, Party orgs 5 = 62.5% (10-25: 4/8 = 50.0%, +12.5); standalone 2 (江岸甲,
         武昌丁) = 40.0% of 5; work 6/8 = 75.0%; must 4, met 3 = 75.0%; new 1;
         80% of 8 is 6.4, so 7 Party orgs are needed: 2 more (江岸 needs 4 of 4: 1, 武昌 2).
  Ranking: 江岸区 75.0% first, 武昌区 50.0% second.

At the 11-25 cut-off (武昌丙 joined a Party org on 11-15), against 第6期:
  武昌区 3/4 = 75.0%, +25.0, work 3/4 = 75.0%, must 66.7% (丙 is not required), new 1.
  江岸区 75.0% 持平, new 0.  全市 6/8 = 75.0%, +12.5, work 7/8 = 87.5%, 1 more needed (7 - 6).
  Both units at 75.0%: ties are ranked by 应建尽建率 (100.0% before 66.7%), so 江岸区 stays
  first although 武昌区 comes first in the unit order.
"""

import gc
import hashlib
import io
import json
import re
import subprocess
import warnings
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pypdf
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign import audit, figures
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.storage import resolve
from campaign.core.vocab import UnitKind
from campaign.half_monthly import services as half_monthly
from campaign.ledger.services import update_organization
from notifications import events
from notifications.models import Event
from reports import fonts, render, services, snapshot
from reports.models import Bulletin, BulletinRun
from tests.conftest import loaded, make_campaign, make_org, make_unit, refs
from tests.timeutil import machine_zone, shanghai

TITLE_6 = "关于全市“两新”组织党组织集中组建“百日攻坚行动”工作进展情况的通报（第6期）"
TITLE_7 = "关于全市“两新”组织党组织集中组建“百日攻坚行动”工作进展情况的通报（第7期）"
ISSUER = "中共武汉市委组织部"
DAY_6, DAY_7 = date(2026, 11, 10), date(2026, 11, 25)
CUTOFF_6 = shanghai(2026, 11, 10, 18, 0)
AFTER_6, AFTER_7 = shanghai(2026, 11, 10, 18, 1), shanghai(2026, 11, 25, 18, 1)
CJK = re.compile(r"[\u3400-\u9fff]")
PUA = "\U000f0041"  # Plane 15 private use: no face has it


@pytest.fixture(autouse=True)
def utc_machine_zone():
    # The server's own zone must not matter: cut-offs are Beijing time.
    with machine_zone("UTC"):
        yield


@pytest.fixture
def w(app, built_once):
    built = loaded(built_once("tests.reports.bulletin.w", _build))
    return SimpleNamespace(
        app=app,
        **vars(built),
        settings=services.settings_from(app.config),
        storage=Path(app.config["STORAGE_PATH"]),
    )


def _build() -> SimpleNamespace:
    wuchang = make_unit("wuchang", "武昌区")
    jiangan = make_unit("jiangan", "江岸区")
    wuchang.position, jiangan.position = 1, 2
    make_unit("erqi", "二七街道", kind=UnitKind.STREET, parent=jiangan, responsible=False)
    campaign = make_campaign(2026)
    orgs = SimpleNamespace(
        wuchang_a=make_org(campaign, wuchang, name="武昌甲", employees=150),
        wuchang_b=make_org(
            campaign,
            wuchang,
            name="武昌乙",
            kind="social",
            category="law_firm",
            level="district",
            employees=10,
            formal=2,
            party_org="joint",
            founded_on=date(2026, 9, 1),
        ),
        wuchang_c=make_org(campaign, wuchang, name="武昌丙", employees=30, formal=1),
        wuchang_d=make_org(
            campaign,
            wuchang,
            name="武昌丁",
            employees=80,
            formal=3,
            party_org="standalone",
            founded_on=date(2026, 10, 20),
        ),
        jiangan_a=make_org(
            campaign,
            jiangan,
            name="江岸甲",
            employees=120,
            formal=3,
            party_org="standalone",
            founded_on=date(2026, 6, 1),
        ),
        jiangan_b=make_org(
            campaign,
            jiangan,
            name="江岸乙",
            employees=60,
            formal=1,
            party_org="joint",
            founded_on=date(2026, 11, 5),
        ),
        jiangan_c=make_org(
            campaign,
            jiangan,
            name="江岸丙",
            kind="social",
            category="other",
            level="district",
            employees=15,
            party_org="functional",
            founded_on=date(2026, 9, 1),
        ),
        jiangan_d=make_org(campaign, jiangan, name="江岸丁", employees=20, instructor="张三"),
        jiangan_e=make_org(
            campaign,
            jiangan,
            name="江岸戊",
            employees=200,
            formal=3,
            status="shell",
            party_org="standalone",
            founded_on=date(2026, 6, 1),
        ),
    )
    db.session.commit()
    return refs(SimpleNamespace(campaign=campaign, wuchang=wuchang, jiangan=jiangan, orgs=orgs))


def publish(w, day: date, moment) -> Bulletin:
    return services.generate(db.session, w.campaign, day, w.settings, "cli", moment=moment)


@pytest.fixture
def sixth(w, built_once) -> Bulletin:
    """第6期 published a minute after its cut-off: made once per process (its PDF drawn once),
    copied back for each test."""

    def build() -> int:
        return publish(w, DAY_6, AFTER_6).id

    return db.session.get_one(Bulletin, built_once("tests.reports.bulletin.sixth", build))


def pdftotext(path: str) -> str:
    """The PDF's text as poppler reads it, table rows kept on their lines, pages split by \\f."""
    args = ["pdftotext", "-enc", "UTF-8", "-layout", path, "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def flat(text: str) -> str:
    """pdftotext breaks long lines where the page does: compare without any whitespace."""
    return re.sub(r"\s+", "", text)


def row(text: str, *cells: str) -> bool:
    """Whether a table row with exactly these cells, in this order, is on one line."""
    pattern = r"^\s*" + r"\s+".join(re.escape(c) for c in cells) + r"\s*$"
    return re.search(pattern, text, re.M) is not None


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_files(w) -> list[Path]:
    return sorted(p for p in (w.storage / "bulletins").rglob("*") if p.is_file())


# ---- what the bulletin says ---------------------------------------------------------------


def test_the_bulletin_prints_the_hand_worked_figures(w, sixth):
    bulletin = sixth

    assert (bulletin.number, bulletin.due_on, bulletin.title) == (6, DAY_6, TITLE_6)
    assert bulletin.cutoff_at == CUTOFF_6

    # The snapshot holds the figures at the cut-off ...
    data = json.loads(bulletin.snapshot)
    units = {
        u["name"]: (
            u["rank"],
            u["counts"]["base"],
            u["new_party_orgs"],
            u["party_org_coverage"],
            u["previous_coverage"],
        )
        for u in data["units"]
    }
    assert units == {"江岸区": (1, 4, 1, 0.75, 0.5), "武昌区": (2, 4, 0, 0.5, 0.5)}
    o = data["overall"]
    assert (o["counts"]["base"], o["counts"]["with_party_org"], o["counts"]["excluded"]) == (
        8,
        5,
        1,
    )
    assert (o["party_org_coverage"], o["previous_coverage"], o["gap"]) == (0.625, 0.5, 2)
    assert (o["work_coverage"], o["required_coverage"], o["new_party_orgs"]) == (0.75, 0.75, 1)
    # ... the same as figures.py gives as of that day (the ledger, not typed numbers).
    by_unit = figures.by_unit(db.session, w.campaign, as_of=DAY_6)
    assert {u.name: f.party_org_coverage for u, f in by_unit} == {"武昌区": 0.5, "江岸区": 0.75}
    assert figures.overall(db.session, w.campaign, as_of=DAY_6).party_org_coverage == 0.625

    # The PDF, read back as a reader would.
    pdf = resolve(bulletin.pdf_path)
    assert pdf.parent == w.storage / "bulletins" / str(w.campaign.id)
    assert sha256(pdf.read_bytes()) == bulletin.pdf_sha256
    text = pdftotext(resolve(bulletin.pdf_path))
    whole = flat(re.sub(r"—\s*\d+\s*—", "", text))  # a paragraph may run over a page
    # 发文机关标志; the 发文字号; the title; the cut-off; 主送 by kind.
    assert whole.startswith(
        ISSUER + "文件武组专〔2026〕1号" + TITLE_6 + "（数据截至2026年11月10日18:00）"
    )
    assert "各区委组织部：按照“百日攻坚行动”工作安排" in whole
    assert ISSUER + "2026年11月10日" in whole  # signature and date
    assert ISSUER + "2026年11月10日印发" in whole  # imprint
    assert (
        "全市纳入党建基数的“两新”组织8个，已建立党组织5个，党组织覆盖率62.5%，"
        "较上期提高12.5个百分点，全市距80%的目标还需组建2个；其中单独组建2个，单独组建率40.0%。"
        "工作覆盖率75.0%（目标100%）。应建党组织的4个组织中已建3个，应建尽建率75.0%。"
        "本期新建党组织1个。距集中组建截止（11月20日）还有10天。"
    ) in whole
    # 名次 名次变化 单位 党建基数 本期新建 党组织覆盖率 较上期 工作覆盖率 应建尽建率 逾期事项;
    # on 10-25 both had 50.0% and 江岸区 was first by 应建尽建率 (100.0% against 66.7%).
    assert row(text, "1", "—", "江岸区", "4", "1", "75.0%", "+25.0", "100.0%", "100.0%", "0")
    assert row(text, "2", "—", "武昌区", "4", "0", "50.0%", "持平", "50.0%", "66.7%", "0")
    assert row(text, "全市合计", "8", "1", "62.5%", "+12.5", "75.0%", "75.0%", "0")
    assert "二七街道" not in text  # a street is not a responsible unit
    # 三、未达目标的单位: both are below 80%; each unit's gap is its own (江岸区 4 of 4 needed,
    # has 3: 1; 武昌区 has 2: 2); the city's gap is one figure, 2, said not to be their sum.
    assert "2个单位党组织覆盖率未达到80%，按本单位党建基数计算" in whole
    assert "全市距目标还需组建2个，按全市党建基数计算" in whole
    assert row(text, "武昌区", "4", "2", "50.0%", "2")
    assert row(text, "江岸区", "4", "3", "75.0%", "1")
    assert "共需组建" not in whole

    # Pages are numbered "— N —" (GB/T 9704), one number per page.
    pages = text.split("\f")[: bulletin.pdf_pages]
    assert bulletin.pdf_pages >= 2
    for n, page in enumerate(pages, 1):
        assert re.findall(r"—\s*(\d+)\s*—", page) == [str(n)]

    reader = pypdf.PdfReader(io.BytesIO(pdf.read_bytes()))
    assert len(reader.pages) == bulletin.pdf_pages
    assert (reader.metadata.title, reader.metadata.author) == (TITLE_6, ISSUER)
    assert "— 1 —" in reader.pages[0].extract_text()
    assert "（第6期）" in reader.pages[0].extract_text()

    # Every font is embedded, none is a Type 3 bitmap, and they are the CJK faces asked for.
    report = subprocess.run(
        ["pdffonts", resolve(bulletin.pdf_path)], capture_output=True, text=True, check=True
    ).stdout
    lines = report.splitlines()[2:]
    assert lines, report
    for line in lines:
        assert line.split()[-5] == "yes", f"font not embedded: {line}"
        assert "Type 3" not in line, line
    names = " ".join(line.split()[0] for line in lines)
    for face in ("FandolFang", "FandolSong-Bold", "AR-PL-UKai-CN", "WenQuanYi-Micro-Hei"):
        assert face in names

    # No character went missing (a box, or nothing): every CJK character of the names, the
    # title and the requirements the bulletin prints is in the extracted text.
    printed = set(text)
    assert "\ufffd" not in printed
    expected = [TITLE_6, ISSUER, "全市合计", "党组织覆盖率", *units, *data["requirements"]]
    missing = {ch for s in expected for ch in CJK.findall(s)} - printed
    assert not missing

    # The snapshot's hash, and the attachment's, are those of what was stored.
    assert sha256(bulletin.snapshot.encode()) == bulletin.snapshot_sha256
    assert sha256(resolve(bulletin.xlsx_path).read_bytes()) == bulletin.xlsx_sha256
    # Published: one audit entry and one notification.
    published = db.session.scalars(select(Event).where(Event.kind == "bulletin_published")).all()
    assert [e.payload["number"] for e in published] == [6]
    assert count(audit.AuditEntry, audit.AuditEntry.action == "bulletin.publish") == 1


# ---- fonts ---------------------------------------------------------------------------------


def test_the_snapshot_counts_an_org_that_must_stand_alone_short_with_a_joint_org(w):
    # 武昌丙 (30 staff, 1 formal) gains 3 more formal members: 应单独组建. A joint Party org
    # (founded 11-01) does not meet that, as the board keeps its item open: the bulletin
    # must not count it as met, nor say the organization has no Party org at all.
    update_organization(
        db.session,
        w.campaign,
        w.orgs.wuchang_c,
        {
            "formal_members": 4,
            "party_org_status": "joint",
            "party_org_name": "武昌联合党支部",
            "party_org_founded_on": date(2026, 11, 1),
        },
        None,
    )
    db.session.commit()
    period = half_monthly.period_for(w.campaign, DAY_6)
    data = snapshot.build(db.session, w.campaign, period, 6, CUTOFF_6, [])
    wuchang = next(u for u in data["units"] if u["name"] == "武昌区")
    # 武昌: must have a Party org 甲 乙 丁 and now 丙; met 乙 and 丁 (丙's is joint): 2 of 4.
    assert (wuchang["counts"]["required"], wuchang["counts"]["required_met"]) == (4, 2)
    assert wuchang["required_coverage"] == 0.5
    assert (wuchang["counts"]["due_standalone"], wuchang["counts"]["met_standalone"]) == (2, 1)
    assert wuchang["counts"]["with_party_org"] == 3  # 党组织覆盖率 counts the joint one
    # 全市: must 5 (武昌 4, 江岸甲), met 3 (武昌乙, 武昌丁, 江岸甲): 2 short, 1 of them 丙.
    assert (
        "全市尚有2个应建党组织的组织未按要求建立党组织（其中1个须单独组建），"
        "要坚持应建尽建，逐一落实一企一策、一社一策。"
    ) in data["requirements"]


@pytest.mark.parametrize("char", [PUA, "🏭"], ids=["plane-15", "emoji"])
def test_a_character_no_face_has_refuses_the_bulletin(w, char):
    w.wuchang.name = f"武昌区{char}"
    db.session.commit()

    with pytest.raises(render.RenderRefused) as refused:
        publish(w, DAY_6, AFTER_6)

    message = str(refused.value)
    assert char in message and "方框" in message
    run = db.session.scalars(select(BulletinRun)).one()
    assert (run.status, run.error) == ("failed", message)
    assert run.finished_at is not None
    assert count(Bulletin) == 0
    # Nothing published; coordinators are told it failed (once a day per period).
    assert [e.kind for e in db.session.scalars(select(Event))] == ["bulletin_failed"]
    assert stored_files(w) == []


def test_missing_fonts_refuse_with_the_packages_to_install(w, monkeypatch):
    # We cannot uninstall fonts here: fontconfig is asked through fonts._installed.
    monkeypatch.setattr(fonts, "_installed", lambda: {})

    with pytest.raises(render.RenderRefused) as refused:
        publish(w, DAY_6, AFTER_6)

    message = str(refused.value)
    for package in ("fonts-arphic-uming", "fonts-arphic-ukai", "fonts-wqy-microhei"):
        assert package in message
    assert "apt-get install" in message
    assert "texlive-lang-chinese" in message and "scripts/system-deps.sh" in message
    run = db.session.scalars(select(BulletinRun)).one()
    assert (run.status, run.error) == ("failed", message)
    assert count(Bulletin) == 0
    assert stored_files(w) == []


def test_one_missing_face_is_named_alone(monkeypatch):
    installed = fonts._installed()
    without_kai = {k: v for k, v in installed.items() if k != "AR PL UKai CN"}
    monkeypatch.setattr(fonts, "_installed", lambda: without_kai)

    with pytest.raises(render.RenderRefused) as refused:
        render.pdf("<p>通报</p>")

    message = str(refused.value)
    assert "fonts-arphic-ukai" in message and "楷体" in message
    assert "fonts-arphic-uming" not in message and "fonts-wqy-microhei" not in message


def test_reading_the_faces_leaves_no_font_file_open():
    fonts._cmap.cache_clear()  # read the fonts' character maps afresh
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert fonts.missing_glyphs("关于全市通报") == []
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


# ---- the snapshot is the record; change since the last bulletin -----------------------------


def test_the_next_bulletin_shows_the_change_and_the_first_stays_as_published(w, sixth, runner):
    first = sixth
    first_pdf = resolve(first.pdf_path).read_bytes()

    # 11-16: 武昌丙 reports a joint Party org founded on 11-15.
    update_organization(
        db.session,
        w.campaign,
        w.orgs.wuchang_c,
        {
            "party_org_status": "joint",
            "party_org_name": "武昌区区域联合党支部",
            "party_org_founded_on": date(2026, 11, 15),
        },
        user=None,
    )
    db.session.commit()
    second = publish(w, DAY_7, AFTER_7)

    assert (second.number, second.title) == (7, TITLE_7)
    data = json.loads(second.snapshot)
    units = {
        u["name"]: (u["rank"], u["new_party_orgs"], u["party_org_coverage"], u["previous_coverage"])
        for u in data["units"]
    }
    assert units == {"江岸区": (1, 0, 0.75, 0.75), "武昌区": (2, 1, 0.75, 0.5)}
    assert (data["overall"]["party_org_coverage"], data["overall"]["previous_coverage"]) == (
        0.75,
        0.625,
    )
    text = pdftotext(resolve(second.pdf_path))
    assert row(text, "1", "—", "江岸区", "4", "0", "75.0%", "持平", "100.0%", "100.0%", "0")
    assert row(text, "2", "—", "武昌区", "4", "1", "75.0%", "+25.0", "75.0%", "66.7%", "0")
    assert row(text, "全市合计", "8", "1", "75.0%", "+12.5", "87.5%", "75.0%", "0")
    assert "党组织覆盖率75.0%，较上期提高12.5个百分点，全市距80%的目标还需组建1个" in flat(text)

    # 第6期 is what it was when published: its stored snapshot still holds the figures of
    # 11-10, and re-rendered it gives the archived bytes, although the ledger has changed.
    db.session.refresh(first)
    assert sha256(first.snapshot.encode()) == first.snapshot_sha256
    assert {u["name"]: u["party_org_coverage"] for u in json.loads(first.snapshot)["units"]} == {
        "江岸区": 0.75,
        "武昌区": 0.5,
    }
    result = runner.invoke(args=["bulletin", "verify", "6"])
    assert result.exit_code == 0, result.output
    assert "第6期通报核对一致" in result.output

    # Someone edits the archived PDF, and types a figure into the stored snapshot: verify
    # names each problem (one re-render checks all three).
    resolve(first.pdf_path).write_bytes(first_pdf + b"\n% edited\n")
    edited = json.loads(first.snapshot)
    edited["overall"]["party_org_coverage"] = 0.875
    first.snapshot = services.dumps(edited)
    db.session.commit()
    result = runner.invoke(args=["bulletin", "verify", "6"])
    assert result.exit_code != 0
    for problem in (
        "数据快照与其 SHA-256 不符",
        "PDF 文件缺失或已被改动",
        "按快照重新生成的 PDF 与存档不一致",
    ):
        assert problem in result.output


def test_a_bulletin_stays_verifiable_after_an_upgrade_changes_the_template(
    w, sixth, runner, monkeypatch
):
    bulletin = sixth
    page = resolve(bulletin.html_path)
    # The HTML the PDF was drawn from is archived beside it, under its own SHA-256.
    assert hashlib.sha256(page.read_bytes()).hexdigest() == bulletin.html_sha256
    assert "各单位进展排名" in page.read_text()

    # A later version words a heading differently: the archive still verifies (the PDF is
    # drawn again from the archived HTML), and verify says the template has changed since.
    env = render.environment()
    source = env.loader.get_source(env, "reports/bulletin.html")[0]
    upgraded = env.overlay(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.DictLoader(
                    {
                        "reports/bulletin.html": source.replace(
                            "各单位进展排名", "各单位进展情况排名"
                        )
                    }
                ),
                env.loader,
            ]
        )
    )
    monkeypatch.setattr(render, "environment", lambda: upgraded)
    result = runner.invoke(args=["bulletin", "verify", "6"])
    assert result.exit_code == 0, result.output
    assert "第6期通报核对一致" in result.output
    assert "当前版本的通报模板与该期生成时不同" in result.output
    monkeypatch.undo()

    # Someone edits the archived HTML: named.
    page.write_text(page.read_text().replace("各单位进展排名", "各单位进展情况"))
    result = runner.invoke(args=["bulletin", "verify", "6"])
    assert result.exit_code != 0
    assert "正文（HTML）文件缺失或已被改动" in result.output

    # A bulletin archived before the HTML was kept is re-rendered from its snapshot.
    bulletin.html_path = bulletin.html_sha256 = None
    db.session.commit()
    result = runner.invoke(args=["bulletin", "verify", "6"])
    assert result.exit_code == 0, result.output
    assert "快照、PDF 与按快照重新生成的结果相同" in result.output


# ---- exactly once --------------------------------------------------------------------------


def test_before_the_cutoff_nothing_starts(w):
    with pytest.raises(ValidationFailed) as refused:
        services.start_run(
            db.session, w.campaign, DAY_6, w.settings, "cli", moment=shanghai(2026, 11, 10, 17, 59)
        )
    assert str(refused.value) == "第6期通报的数据截至2026-11-10 18:00，此前不能生成"
    with pytest.raises(ValidationFailed, match="2026-11-11 不是本行动的半月报送日"):
        services.start_run(
            db.session, w.campaign, date(2026, 11, 11), w.settings, "cli", moment=AFTER_6
        )
    assert count(BulletinRun) == 0
    # At 18:00 sharp the period may be produced.
    run = services.start_run(db.session, w.campaign, DAY_6, w.settings, "cli", moment=CUTOFF_6)
    assert run.status == "running"


def test_a_live_run_blocks_a_second_until_its_lease_runs_out(w):
    first = services.start_run(
        db.session, w.campaign, DAY_6, w.settings, "schedule", moment=CUTOFF_6
    )
    # Two minutes without a heartbeat is still alive ...
    with pytest.raises(services.Busy, match="第6期通报正在生成中"):
        services.start_run(
            db.session, w.campaign, DAY_6, w.settings, "cli", moment=shanghai(2026, 11, 10, 18, 2)
        )
    # ... a second more and the process is taken for dead.
    second = services.start_run(
        db.session, w.campaign, DAY_6, w.settings, "cli", moment=shanghai(2026, 11, 10, 18, 2, 1)
    )
    db.session.refresh(first)
    assert (first.status, second.status) == ("abandoned", "running")
    assert first.error


def test_a_bulletin_published_meanwhile_by_another_process_wins(w, tmp_path, monkeypatch):
    cid = w.campaign.id
    written = []
    real_keep = services.keep

    def spy(session, root, folder, stem, suffix, data):  # the real write, remembered
        path, digest = real_keep(session, root, folder, stem, suffix, data)
        written.append(resolve(path))
        return path, digest

    monkeypatch.setattr(services, "keep", spy)
    run = services.start_run(db.session, w.campaign, DAY_6, w.settings, "schedule", moment=AFTER_6)

    # Another process publishes the same period and commits, on its own connection.
    elsewhere = tmp_path / "elsewhere.pdf"
    elsewhere.write_bytes(b"%PDF-1.7 published by another process")
    with Session(db.engine) as other:
        winner = Bulletin(
            campaign_id=cid,
            number=6,
            due_on=DAY_6,
            cutoff_at=CUTOFF_6,
            title=TITLE_6,
            snapshot="{}",
            snapshot_sha256=sha256(b"{}"),
            pdf_path=str(elsewhere),
            pdf_sha256=sha256(elsewhere.read_bytes()),
            pdf_pages=1,
            xlsx_path=str(tmp_path / "elsewhere.xlsx"),
            xlsx_sha256="0" * 64,
            trigger="schedule",
        )
        other.add(winner)
        other.flush()
        events.emit(other, events.BULLETIN_PUBLISHED, bulletin_id=winner.id, number=6)
        other.commit()
        winner_id = winner.id

    result = services.produce(db.session, run, w.settings)

    assert result.id == winner_id
    db.session.refresh(run)
    assert run.status == "exists" and run.bulletin_id is None
    assert count(Bulletin) == 1
    assert count(Event, Event.kind == "bulletin_published") == 1
    assert count(audit.AuditEntry, audit.AuditEntry.action == "bulletin.publish") == 0
    # The losing run got as far as writing its PDF, attachment and HTML, and removed them.
    assert len(written) == 3
    assert not any(p.exists() for p in written)
    assert stored_files(w) == []
    assert elsewhere.exists()

    # Asked again, the service refuses in Chinese and starts nothing.
    with pytest.raises(ValidationFailed, match=r"^第6期通报已于.*生成，不重复生成$"):
        publish(w, DAY_6, shanghai(2026, 11, 11, 9, 0))
    assert count(BulletinRun) == 1
