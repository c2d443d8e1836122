"""Producing bulletins exactly once: runs, progress, files, the archive, and what is due.

A bulletin exists at most once per campaign and period: the database's unique constraint
decides, whatever produces it (scheduler processes, a web worker with the scheduler on by
mistake, the CLI, a coordinator's button). Files are written first under names no other run
uses, then the row, the audit entry with its anchor and the "published" event commit
together, so a crash at any point leaves either a whole bulletin or none.
"""

import hashlib
import json
import os
import re
import socket
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from campaign import audit, display
from campaign.core import events, jobs, permissions
from campaign.core.clock import now, today
from campaign.core.db import Session, claim, serialize
from campaign.core.errors import Conflict, ValidationFailed
from campaign.core.models import Campaign, Unit, User
from campaign.core.paths import path_for
from campaign.core.storage import keep
from campaign.core.vocab import Role
from campaign.display import local_time, percent
from campaign.display import target as display_target
from campaign.half_monthly import services as half_monthly
from campaign.ledger.models import Organization
from reports import attachment, render, snapshot
from reports.models import Bulletin, BulletinRun

ABANDONED = "进程在生成过程中中断（未生成通报，将自动重新生成）"
# A run that has reported no progress for 2 minutes died with its process; a period whose
# run failed is retried after 5 minutes, doubling per failure up to 2 hours, for as long
# as its bulletin is missing.
RETRY = jobs.Retry(first=timedelta(minutes=5), cap=timedelta(hours=2))
RUNS = jobs.Kind(
    BulletinRun,
    running="running",
    heartbeat=BulletinRun.heartbeat_at,
    lease=timedelta(minutes=2),
    abandoned=lambda moment: {"status": "abandoned", "finished_at": moment, "error": ABANDONED},
)


@dataclass(frozen=True)
class Settings:
    storage: Path  # STORAGE_PATH: PDFs and attachments go under bulletins/
    at: time  # the cut-off time on the report day (BULLETIN_TIME, default 18:00)


class Busy(RuntimeError):
    """Another process is producing this period's bulletin right now."""


def numbered_period(campaign: Campaign, due_on: date) -> tuple[int, half_monthly.Period]:
    """第N期 and the period of the report day ``due_on`` (refused if it is not one)."""
    for number, period in enumerate(half_monthly.periods(campaign), 1):
        if period.due_on == due_on:
            return number, period
    days = "、".join(p.due_on.isoformat() for p in half_monthly.periods(campaign))
    raise ValidationFailed([("due_on", f"{due_on} 不是本行动的半月报送日（可选：{days}）")])


def find(session: Session, campaign: Campaign, due_on: date) -> Bulletin | None:
    return session.scalar(
        select(Bulletin).where(Bulletin.campaign_id == campaign.id, Bulletin.due_on == due_on)
    )


def archive(session: Session, campaign: Campaign) -> list[Bulletin]:
    """Every bulletin of the campaign, newest first."""
    return list(
        session.scalars(
            select(Bulletin)
            .where(Bulletin.campaign_id == campaign.id)
            .order_by(Bulletin.number.desc())
        )
    )


def runs(session: Session, campaign: Campaign, limit: int = 20) -> list[BulletinRun]:
    """The latest attempts, newest first (failures stay visible here)."""
    return list(
        session.scalars(
            select(BulletinRun)
            .where(BulletinRun.campaign_id == campaign.id)
            .order_by(BulletinRun.id.desc())
            .limit(limit)
        )
    )


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# The first step of a production, and how far it is then.
FIRST_STEP = ("汇总数据", 5)


def start_run(
    session: Session,
    campaign: Campaign,
    due_on: date,
    settings: Settings,
    trigger: str,
    user=None,
    moment: datetime | None = None,
    queued: bool = False,
) -> BulletinRun:
    """Check that the period's bulletin may be produced now and record the attempt (committed).

    A run produced at once by its caller (the scheduler, the CLI, the API) is recorded at its
    first step, 汇总数据, which ``produce`` then need not write again; a ``queued`` one (a page's
    request, produced by a job thread) as 排队 until that thread starts it."""
    moment = moment or now()
    number, _ = numbered_period(campaign, due_on)
    cutoff = snapshot.cutoff_of(campaign, due_on, settings.at)
    if moment < cutoff:
        raise ValidationFailed(
            [("due_on", f"第{number}期通报的数据截至{cutoff:%Y-%m-%d %H:%M}，此前不能生成")]
        )
    if (existing := find(session, campaign, due_on)) is not None:
        raise ValidationFailed(
            [
                (
                    "due_on",
                    f"第{existing.number}期通报已于{local_time(existing.created_at, campaign.timezone)}生成，不重复生成",
                )
            ]
        )
    jobs.settle_abandoned(session, RUNS, moment)
    if session.scalar(
        select(BulletinRun.id).where(
            BulletinRun.campaign_id == campaign.id,
            BulletinRun.due_on == due_on,
            BulletinRun.status == "running",
        )
    ):
        raise Busy(f"第{number}期通报正在生成中")
    run = BulletinRun(
        campaign_id=campaign.id,
        due_on=due_on,
        trigger=trigger,
        worker=_worker(),
        user_id=getattr(user, "id", None),
        step="排队" if queued else FIRST_STEP[0],
        progress=0 if queued else FIRST_STEP[1],
        started_at=moment,
        heartbeat_at=moment,
    )
    session.add(run)
    session.commit()
    return run


def produce(
    session: Session, run: BulletinRun, settings: Settings, user=None, progress=None
) -> Bulletin:
    """Do the run: snapshot, render, store; publish the bulletin, or record why not.

    Progress is committed on the run (pages poll it) and passed to ``progress(step, percent)``.
    """
    # The process's long-lived objects are left out of the cycle collector from the gather to
    # the publication (render.long_lived_frozen): what the bulletin leaves behind (the
    # render's pages and boxes) is collected once it is published, not before.
    with render.long_lived_frozen():
        return _produce(session, run, settings, user, progress)


def _produce(
    session: Session, run: BulletinRun, settings: Settings, user=None, progress=None
) -> Bulletin:
    campaign = session.get_one(Campaign, run.campaign_id)
    run_id = run.id

    def step(label: str, percent: int) -> None:
        jobs.progress(session, RUNS, run, step=label, progress=percent)
        heard(label, percent)

    def heard(label: str, percent: int) -> None:  # told to the caller, not written on the row
        if progress:
            progress(label, percent)

    def writing_lists(done: int, total: int) -> None:
        # Inside the transaction the lists are read in, which goes on: written aside.
        label, percent = f"写入附件（{done}/{total} 行）", 5 + 20 * done // total
        jobs.progress_aside(session, RUNS, run_id, step=label, progress=percent)
        if progress:
            progress(label, percent)

    review, seq, document = False, None, ""
    try:
        # A run recorded at its first step a moment ago (start_run) is not written again;
        # the read of its row is ended, so that the figures' view begins after it.
        if (run.step, run.progress) == FIRST_STEP:
            heard(*FIRST_STEP)
            session.commit()
        else:
            step(*FIRST_STEP)
        _one_view(session)
        # A city's attachment is written by a worker process, started now so that its
        # start-up overlaps the gather; it writes the rows as they are spooled.
        organizations = session.scalar(
            select(func.count(Organization.id)).where(Organization.campaign_id == campaign.id)
        )
        with attachment.start(worker=(organizations or 0) >= attachment.WORKER_ORGS) as writing:
            number, period = numbered_period(campaign, run.due_on)
            cutoff = snapshot.cutoff_of(campaign, run.due_on, settings.at)
            # The lists first, spooled for the attachment (its worker writes their rows while
            # this process gathers the figures), read in the one view the figures are then
            # counted in.
            writing.feed_lists(
                snapshot.title(campaign, number),
                snapshot.lists(session, campaign, period, cutoff),
                snapshot.listed(session, campaign, period, cutoff),
                progress=writing_lists,
            )
            earlier = earlier_snapshots(session, campaign, run.due_on)
            data = snapshot.build(session, campaign, period, number, cutoff, earlier, now())
            review = campaign.bulletin_review
            if review:  # waits for 签发: numbered then
                data["draft"] = True
            else:  # numbered now (and again below if another period's run took the number)
                # Published without review: dated on its report day (the day its figures stand
                # for), whenever the job ran, so a 补发 keeps the date and the number's year.
                issued = cutoff.astimezone(ZoneInfo(campaign.timezone)).date()
                seq, document = next_document(session, campaign, issued)
                data |= {"document_number": document, "signed_on": issued.isoformat()}
            writing.feed_snapshot(data)
            # End the one view before writing the run again: its row has moved on meanwhile.
            session.commit()
            # The worker (if any) writes the attachment meanwhile; this process draws the PDF.
            step("绘制图表、排版", 25)
            html = render.html(data)
            # The render's own step and the files' (a fraction of a second each) are told to
            # the caller; the row, which pages poll, says 绘制图表、排版 until the bulletin is
            # published, unless the attachment's worker is still at it: then it says so.
            pdf = render.pdf(html, progress=heard)
            (step if writing.busy() else heard)("保存文件", 92)
            xlsx = writing.result()
        if not review:
            # 发文字号 are issued one at a time: a run of another period that published
            # meanwhile took this number, so this one takes the next (and is drawn again).
            serialize(session, Campaign.__table__, campaign.id)
            if (taken := next_document(session, campaign, issued))[0] != seq:
                seq, document = taken
                data["document_number"] = document
                html = render.html(data)
                pdf = render.pdf(html)
        # Kept for this transaction: removed again if the bulletin is not published.
        folder, stem = f"bulletins/{campaign.id}", f"{campaign.year}-{number:02d}"
        pdf_path, pdf_sha = keep(session, settings.storage, folder, stem, ".pdf", pdf.data)
        xlsx_path, xlsx_sha = keep(session, settings.storage, folder, stem, ".xlsx", xlsx)
        html_path, html_sha = keep(session, settings.storage, folder, stem, ".html", html.encode())
        text = dumps(data)
        jobs.hold(session, RUNS, run)  # published under the run's lease, or not at all
        bulletin = Bulletin(
            campaign_id=campaign.id,
            number=number,
            due_on=run.due_on,
            cutoff_at=cutoff,
            title=data["title"],
            snapshot=text,
            snapshot_sha256=hashlib.sha256(text.encode()).hexdigest(),
            pdf_path=pdf_path,
            pdf_sha256=pdf_sha,
            pdf_pages=pdf.pages,
            html_path=html_path,
            html_sha256=html_sha,
            xlsx_path=xlsx_path,
            xlsx_sha256=xlsx_sha,
            trigger=run.trigger,
            created_by_id=getattr(user, "id", None),
            status="draft" if review else "published",
        )
        if not review:
            bulletin.document_seq, bulletin.document_number = seq, document
            bulletin.signed_at = now()
        session.add(bulletin)
        session.flush()  # the unique constraint answers here if another run won
        audit.record(
            session,
            user=user or f"scheduler@{_worker()}",
            action="bulletin.draft" if review else "bulletin.publish",
            obj_type="bulletin",
            obj_id=bulletin.id,
            after={
                "number": number,
                "due_on": run.due_on.isoformat(),
                "pdf_sha256": pdf_sha,
                "snapshot_sha256": bulletin.snapshot_sha256,
                "trigger": run.trigger,
            }
            | ({} if review else {"document_number": document}),
        )
        if review:
            headline = _headline(session, data, bulletin)
            events.publish(session, events.BulletinDrafted(bulletin, headline))
        else:
            _published(session, campaign, bulletin, data)
        run.status, run.step, run.progress = "published", "完成", 100
        run.finished_at, run.bulletin_id = now(), bulletin.id
        session.commit()
        if progress:
            progress("完成", 100)
        return bulletin
    except IntegrityError:
        session.rollback()
        run = session.get_one(BulletinRun, run_id)
        existing = find(session, campaign, run.due_on)
        run.finished_at = now()
        if existing is not None:
            run.status, run.error = "exists", "同一期通报已由其他进程生成"
        elif not review and session.scalar(
            select(Bulletin.id).where(
                Bulletin.campaign_id == campaign.id, Bulletin.document_seq == seq
            )
        ):  # another period's bulletin took the 发文字号 at the same moment: made again later
            run.status = "failed"
            run.error = f"发文字号{document}已被同时发布的另一期通报使用，将自动重新生成"
        else:  # the number is taken by another report day: the report days were changed
            run.status = "failed"
            run.error = (
                f"第{number}期的编号已被另一报送日的通报占用（报送日设置是否改过？），请联系管理员"
            )
            events.publish(session, events.BulletinFailed(run))
        session.commit()
        if existing is None:
            raise ValidationFailed([("due_on", run.error)]) from None
        return existing
    except jobs.LeaseLost:  # settled as abandoned meanwhile: redone elsewhere, nothing kept
        session.rollback()
        raise
    except BaseException as e:  # a failure is recorded (and retried), never half-published
        session.rollback()
        run = session.get_one(BulletinRun, run_id)
        run.status, run.finished_at = "failed", now()
        run.error = _explain(e)
        events.publish(session, events.BulletinFailed(run))
        session.commit()
        raise


def _one_view(session: Session) -> None:
    """Begin the next transaction as one view of the database (PostgreSQL REPEATABLE READ), so
    the figures and the lists a bulletin reads in it agree, whatever commits meanwhile.

    Called right after a commit, before anything is read. SQLite is left as it is: its
    driver reads outside a transaction, and it serves one process here (tests, the demo)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _published(session: Session, campaign: Campaign, bulletin: Bulletin, data: dict) -> None:
    """What follows a bulletin's publication in its transaction: the audit anchor, the news."""
    # A signed copy of the record's head, at this very entry, kept with the bulletin: an
    # earlier head put back later, with the entries after it deleted, shows against it.
    audit.keep_anchor(
        session,
        ref=f"bulletin:{bulletin.id}",
        label=f"{campaign.year}年第{bulletin.number}期通报",
    )
    headline = _headline(session, data, bulletin)
    events.publish(session, events.BulletinPublished(bulletin, headline))


def _headline(session: Session, data: dict, bulletin: Bulletin) -> dict:
    """What the messages about a bulletin say: the headline figures, its 主送 units (every
    unit it ranks), the link (the PDF itself once published, the draft's page before) and
    the PDF."""
    o = data["overall"]
    codes = [u["code"] for u in data["units"]]
    ids: dict[str, int] = {
        code: unit_id
        for code, unit_id in session.execute(
            select(Unit.code, Unit.id).where(Unit.code.in_(codes))
        ).tuples()
    }
    change = display.change_in_points(o["party_org_coverage"], o["previous_coverage"])
    return {
        "bulletin_id": bulletin.id,
        "campaign_id": bulletin.campaign_id,
        "number": bulletin.number,
        "due_on": bulletin.due_on.isoformat(),
        "title": data["title"],
        "issuing_body": data["campaign"]["issuing_body"],
        "cutoff": data["cutoff"][:16].replace("T", " "),
        "coverage": percent(o["party_org_coverage"]),
        "change": change,
        "target": display_target(data["campaign"]["target_party_org_coverage"]),
        "gap": o["gap"],
        "required_coverage": percent(o["required_coverage"]),
        "new_party_orgs": o["new_party_orgs"],
        "closures": data["overall"]["closures_verified"],
        "below_target": sum(1 for u in data["units"] if u["reaches"] is False),
        "days_left": data["days_left"],
        "document_number": data.get("document_number", ""),
        "unit_ids": [ids[code] for code in codes if code in ids],
        "path": path_for(
            "bulletins.draft" if bulletin.is_draft else "bulletins.pdf",
            campaign_id=bulletin.campaign_id,
            number=bulletin.number,
        ),
        "attachments": [
            {
                "path": bulletin.pdf_path,
                "name": f"通报第{bulletin.number}期{'（草稿）' if bulletin.is_draft else ''}.pdf",
            },
        ],
    }


def _explain(error: BaseException) -> str:
    """What coordinators read about a failed run: our refusals as they are, anything else named."""
    if isinstance(error, (render.RenderRefused, ValidationFailed)):
        return str(error)
    return f"程序错误（{type(error).__name__}: {error}），已记录，将自动重试；反复出现请联系管理员"


def dumps(data: dict) -> str:
    """The snapshot's stored form (stable key order, Chinese kept readable)."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def earlier_snapshots(session: Session, campaign: Campaign, due_on: date) -> list[dict]:
    """The snapshots of the campaign's bulletins before report day ``due_on``, oldest first
    (a bulletin's trend takes their published points)."""
    return [
        json.loads(text)
        for text in session.scalars(
            select(Bulletin.snapshot)
            .where(Bulletin.campaign_id == campaign.id, Bulletin.due_on < due_on)
            .order_by(Bulletin.due_on)
        )
    ]


def generate(
    session: Session,
    campaign: Campaign,
    due_on: date,
    settings: Settings,
    trigger: str,
    user=None,
    moment: datetime | None = None,
    progress=None,
) -> Bulletin:
    """Produce the bulletin of the period due on ``due_on``, in the foreground."""
    run = start_run(session, campaign, due_on, settings, trigger, user, moment)
    return produce(session, run, settings, user, progress)


def due(session: Session, campaign: Campaign, settings: Settings, moment: datetime) -> list[date]:
    """Report days whose bulletin is due and missing: cut-off passed (after the campaign was set
    up here), no bulletin, not being produced, and not waiting to retry after a failure."""
    published = set(
        session.scalars(select(Bulletin.due_on).where(Bulletin.campaign_id == campaign.id))
    )
    attempts: dict[date, list[BulletinRun]] = {}
    for run in session.scalars(
        select(BulletinRun).where(BulletinRun.campaign_id == campaign.id).order_by(BulletinRun.id)
    ):
        attempts.setdefault(run.due_on, []).append(run)
    out = []
    for period in half_monthly.periods(campaign):
        cutoff = snapshot.cutoff_of(campaign, period.due_on, settings.at)
        if cutoff > moment or cutoff < campaign.created_at or period.due_on in published:
            continue
        tried = attempts.get(period.due_on, [])
        if any(jobs.is_held(RUNS, r, moment) for r in tried):
            continue
        # A run whose process died is redone at once (the next catch-up); a run that failed
        # (an error it recorded) waits, so a persistent error is not retried in a loop.
        failures = [r for r in tried if r.status == "failed"]
        if failures:
            last = failures[-1].finished_at or failures[-1].started_at
            if moment < RETRY.next_attempt(len(failures), last):
                continue
        out.append(period.due_on)
    return out


def pending_cutoffs(campaign: Campaign, settings: Settings, moment: datetime) -> list[date]:
    """Report days whose cut-off has passed (what a coordinator may produce by hand)."""
    return [
        p.due_on
        for p in half_monthly.periods(campaign)
        if snapshot.cutoff_of(campaign, p.due_on, settings.at) <= moment
    ]


def settings_from(config) -> Settings:
    """Settings from the app's configuration (STORAGE_PATH, BULLETIN_TIME "HH:MM")."""
    raw = str(config.get("BULLETIN_TIME") or "18:00")
    try:
        at = time.fromisoformat(raw)
    except ValueError as e:
        raise ValueError(f"BULLETIN_TIME 应为 HH:MM（如 18:00），现为 {raw!r}") from e
    return Settings(storage=Path(config["STORAGE_PATH"]), at=at)


def parse_due(raw: str) -> date:
    """A report day typed or chosen in a form, refused in Chinese."""
    try:
        return date.fromisoformat(raw.strip())
    except ValueError as e:
        raise ValidationFailed(
            [("due_on", f"报送日“{raw}”不是有效日期（格式：2026-11-25）")]
        ) from e


# ---- review and 签发 -----------------------------------------------------------------------


def document_number(prefix: str, year: int, seq: int) -> str:
    """发文字号 as GB/T 9704 writes it: "武组专〔2026〕3号"."""
    return f"{prefix}〔{year}〕{seq}号"


def next_document(session: Session, campaign: Campaign, day: date) -> tuple[int, str]:
    """The campaign's next 发文字号 (its sequence number and its text), issued on ``day``."""
    last = session.scalar(
        select(func.max(Bulletin.document_seq)).where(Bulletin.campaign_id == campaign.id)
    )
    seq = (last or 0) + 1
    return seq, document_number(campaign.document_prefix, day.year, seq)


@permissions.because("通报须由领导签发（角色为“领导”的用户），市级专班可审核修改文字")
def may_sign(user: User) -> bool:
    """Who signs (签发) a bulletin: leadership. A unit's leader (单位负责人) is an addressee
    of the bulletin, not its signer; a unit leader belongs to a responsible unit, never to
    the city itself (campaign/core/accounts.py)."""
    return user.role == Role.LEADERSHIP


def sees_drafts(user: User) -> bool:
    """A draft is for those who review it (coordinators, admins) and those who sign it."""
    return permissions.may_edit_campaign(user) or may_sign(user)


MAX_PARAGRAPHS = 20
MAX_PARAGRAPH = 600
_FIGURE = re.compile(r"\d+(?:\.\d+)?")


def figures_in(text: str) -> list[str]:
    """The figures written in ``text`` (full-width digits read as the digits they are)."""
    return _FIGURE.findall(unicodedata.normalize("NFKC", text))


def parse_requirements(raw: str, generated: list[str]) -> list[str]:
    """下步工作要求 as a coordinator typed them, one paragraph per line; ValidationFailed naming
    the paragraph when one is too long, carries a figure the generated text does not (the
    figures are the system's, not edited by hand) or a character no installed face prints."""
    paragraphs = [" ".join(line.split()) for line in (raw or "").replace("\r", "").split("\n")]
    paragraphs = [p for p in paragraphs if p]
    field = "requirements"
    if not paragraphs:
        raise ValidationFailed([(field, "下步工作要求不能为空：至少写一段")])
    if len(paragraphs) > MAX_PARAGRAPHS:
        raise ValidationFailed(
            [(field, f"下步工作要求最多{MAX_PARAGRAPHS}段，现有{len(paragraphs)}段")]
        )
    allowed = {f for text in generated for f in figures_in(text)}
    problems = []
    for n, text in enumerate(paragraphs, 1):
        if len(text) > MAX_PARAGRAPH:
            problems.append((field, f"第{n}段过长（{len(text)}字），每段最多{MAX_PARAGRAPH}字"))
        if odd := [f for f in figures_in(text) if f not in allowed]:
            problems.append(
                (
                    field,
                    f"第{n}段中的数字“{odd[0]}”不是本期通报的数据：数字由系统按截止时的数据"
                    "生成，不能手工改动，只能修改文字",
                )
            )
        if any(unicodedata.category(c).startswith("C") for c in text):
            problems.append((field, f"第{n}段含有控制字符，请删除后再保存"))
        else:
            try:
                render.refuse_unprintable(text)
            except render.RenderRefused as e:
                problems.append((field, f"第{n}段：{e}"))
    if problems:
        raise ValidationFailed(problems)
    return paragraphs


def _rendered(session: Session, bulletin: Bulletin, data: dict, settings: Settings) -> None:
    """Render ``data`` and put it on ``bulletin``: the new PDF (kept unless the transaction
    rolls back; the earlier file stays, as every file does) and the snapshot it came from."""
    try:
        html = render.html(data)
        pdf = render.pdf(html)
    except render.RenderRefused as e:
        raise ValidationFailed([("requirements", str(e))]) from e
    folder = f"bulletins/{bulletin.campaign_id}"
    stem = f"{bulletin.campaign.year}-{bulletin.number:02d}"
    bulletin.pdf_path, bulletin.pdf_sha256 = keep(
        session, settings.storage, folder, stem, ".pdf", pdf.data
    )
    bulletin.html_path, bulletin.html_sha256 = keep(
        session, settings.storage, folder, stem, ".html", html.encode()
    )
    bulletin.pdf_pages = pdf.pages
    bulletin.snapshot = dumps(data)
    bulletin.snapshot_sha256 = hashlib.sha256(bulletin.snapshot.encode()).hexdigest()


def _signed_already(bulletin: Bulletin) -> str:
    signer = bulletin.signed_by.display_name if bulletin.signed_by else "系统"
    when = local_time(bulletin.signed_at, bulletin.campaign.timezone)
    return (
        f"第{bulletin.number}期通报已由{signer}于{when}签发（{bulletin.document_number}），"
        "不能再修改或重复签发"
    )


def _as_paragraphs(paragraphs: list[str]) -> str:
    return "\n".join(f"{n}．{text}" for n, text in enumerate(paragraphs, 1))


EDITED_MEANWHILE = (
    "草稿的文字已被他人修改（见下方最新文字），本次修改未保存；请在最新文字上重新修改"
)


def edit_requirements(
    session: Session,
    bulletin: Bulletin,
    raw: str,
    user: User,
    settings: Settings,
    based_on: str | None = None,
) -> bool:
    """A coordinator's wording of a draft's 下步工作要求: the draft rendered again with it,
    the change recorded with the text before and after. False when nothing changed.
    ``based_on`` is the snapshot's SHA-256 the wording started from: if another edit came
    in between, this one is refused (Conflict) rather than overwrite it unseen."""
    # One edit or 签发 of the draft at a time; a signed bulletin is not edited.
    claim(session, bulletin, Bulletin.status == "draft", lambda: _signed_already(bulletin))
    if based_on is not None and based_on != bulletin.snapshot_sha256:
        raise Conflict(EDITED_MEANWHILE)
    data = json.loads(bulletin.snapshot)
    paragraphs = parse_requirements(raw, snapshot.requirements(data) + data["requirements"])
    before = data["requirements"]
    if paragraphs == before:
        return False
    data["requirements"] = paragraphs
    old_sha = bulletin.pdf_sha256
    _rendered(session, bulletin, data, settings)
    audit.record(
        session,
        user=user,
        action="bulletin.edit",
        obj_type="bulletin",
        obj_id=bulletin.id,
        before={"requirements": _as_paragraphs(before), "pdf_sha256": old_sha},
        after={"requirements": _as_paragraphs(paragraphs), "pdf_sha256": bulletin.pdf_sha256},
    )
    return True


def sign(session: Session, bulletin: Bulletin, user: User, settings: Settings) -> Bulletin:
    """签发: the draft as it stands numbered (the campaign's next 发文字号), dated today and
    signed by ``user``, rendered into its final PDF, archived and told to its 主送 units.
    A second 签发 (a double click, two leaders at once) is refused (Conflict)."""
    claim(
        session,
        bulletin,
        Bulletin.status == "draft",
        lambda: _signed_already(bulletin),
        status="published",
    )
    campaign = bulletin.campaign
    serialize(session, Campaign.__table__, campaign.id)  # 发文字号 issued one at a time
    day = today(campaign.timezone)
    seq, document = next_document(session, campaign, day)
    data = json.loads(bulletin.snapshot)
    data.pop("draft", None)
    signer = _signer_name(user)
    data |= {"document_number": document, "signed_on": day.isoformat(), "signed_by": signer}
    old_sha = bulletin.pdf_sha256
    _rendered(session, bulletin, data, settings)
    bulletin.document_seq, bulletin.document_number = seq, document
    bulletin.signed_at, bulletin.signed_by_id = now(), user.id
    session.flush()
    audit.record(
        session,
        user=user,
        action="bulletin.sign",
        obj_type="bulletin",
        obj_id=bulletin.id,
        before={"status": "待签发", "pdf_sha256": old_sha},
        after={
            "status": "已签发",
            "document_number": document,
            "signed_on": day.isoformat(),
            "pdf_sha256": bulletin.pdf_sha256,
            "snapshot_sha256": bulletin.snapshot_sha256,
        },
    )
    _published(session, campaign, bulletin, data)
    return bulletin


def _signer_name(user: User) -> str:
    """The signer as the bulletin's record names him."""
    return user.display_name or user.username


def remind_unsigned(session: Session, moment: datetime) -> int:
    """Remind the signers of every draft still unsigned ``bulletin_sign_hours`` after its
    cut-off (each draft once a day, whatever the number of processes); returns how many."""
    reminded = 0
    for bulletin in session.scalars(
        select(Bulletin).where(Bulletin.status == "draft").order_by(Bulletin.id)
    ).all():
        hours = timedelta(hours=bulletin.campaign.bulletin_sign_hours)
        if moment < bulletin.cutoff_at + hours:
            continue
        data = json.loads(bulletin.snapshot)
        headline = _headline(session, data, bulletin) | {
            "waiting_since": local_time(bulletin.cutoff_at, bulletin.campaign.timezone),
            "day": moment.astimezone(ZoneInfo(bulletin.campaign.timezone)).date().isoformat(),
        }
        events.publish(session, events.BulletinSignOverdue(bulletin, headline))
        reminded += 1
    return reminded
