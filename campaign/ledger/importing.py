"""Ledger import: check a file, preview its differences, apply it whole.

A draft (or returned) ledger is replaced by the file: organizations added,
changed and removed, each recorded. An approved ledger (the base) is never
changed by a file: its additions and corrections become change requests for a
coordinator to decide.
"""

import hashlib
import logging
from collections.abc import Callable
from datetime import date, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update

from campaign import audit, figures, rules, rulesets
from campaign.core import jobs
from campaign.core import storage as files
from campaign.core.cells import printable
from campaign.core.clock import now
from campaign.core.db import Session, claim, insert_rows, one_of, serialize
from campaign.core.errors import Conflict, ValidationFailed
from campaign.core.models import Campaign, Unit
from campaign.core.vocab import (
    EXCLUDED_STATUSES,
    EXITS,
    OperatingStatus,
    OrgKind,
    Remit,
    UnitKind,
    primary_tag,
)
from campaign.ledger import excel
from campaign.ledger.models import (
    ChangeAction,
    ChangeRequest,
    ChangeStatus,
    ExclusionProposal,
    ImportBatch,
    LedgerConflict,
    LedgerStatus,
    Organization,
    UnitLedger,
)
from campaign.ledger.services import (
    apply_rules,
    area_ids,
    ledger_values,
    pending_ids,
    unit_ledger,
)

# A preview stores an added or changed row as its values in this order ("values"), not as a
# dict repeating every field name per row (which made a 50,000-row preview 35 MB). Previews made
# before that carry "row" dicts and still apply. A preview whose lists are not this long was
# made under another column set and is refused at apply: add fields, never reorder them.
COMPARED = [*excel.LEDGER_FIELDS, "area_name"]
_COMPARED_VALUES = itemgetter(*COMPARED)
log = logging.getLogger(__name__)


def unit_context(session: Session, unit: Unit) -> excel.UnitContext:
    """The unit's name and its streets/parks, for validating 所在区 and 街道/园区."""
    areas = area_ids(session, unit.id)
    return excel.UnitContext(unit.name, unit.kind == UnitKind.DISTRICT, tuple(areas))


def _stored_rows(session: Session, campaign: Campaign, unit: Unit) -> dict[str, dict]:
    """The unit's current ledger as {credit_code: {field: value}} (plus id)."""
    area = Unit.__table__.alias("area")
    columns = [getattr(Organization, f) for f in excel.LEDGER_FIELDS]
    stmt = (
        select(Organization.id, area.c.name.label("area_name"), *columns)
        .outerjoin(area, area.c.id == Organization.area_id)
        .where(Organization.campaign_id == campaign.id, Organization.unit_id == unit.id)
    )
    rows = {}
    for row in session.execute(stmt):
        data = dict(row._mapping)
        data["area_name"] = data["area_name"] or ""
        rows[data["credit_code"]] = data
    return rows


def _other_units_holding(
    session: Session, campaign: Campaign, unit: Unit, codes: list[str]
) -> dict[str, tuple[int, str]]:
    """Codes already in another unit's ledger: code -> (unit id, unit name). Not the name that
    ledger gives the organization: that is the other unit's data."""
    if not codes:
        return {}
    stmt = (
        select(Organization.credit_code, Organization.unit_id, Unit.name)
        .join(Unit, Unit.id == Organization.unit_id)
        .where(
            Organization.campaign_id == campaign.id,
            Organization.unit_id != unit.id,
            one_of(session, Organization.credit_code, codes),
        )
    )
    return {code: (unit_id, unit_name) for code, unit_id, unit_name in session.execute(stmt)}


def start_import(
    session: Session,
    campaign: Campaign,
    unit: Unit,
    data: bytes,
    filename: str,
    user,
    storage: Path,
) -> ImportBatch:
    """Record an upload and keep the file (outside static) before it is processed."""
    # The unit's uploads whose processing died are settled by its next upload, if the
    # scheduler has not settled them already.
    scope = (ImportBatch.campaign_id == campaign.id, ImportBatch.unit_id == unit.id)
    jobs.settle_abandoned(session, IMPORTS, now(), *scope)
    digest = hashlib.sha256(data).hexdigest()
    batch = ImportBatch(
        campaign_id=campaign.id,
        unit_id=unit.id,
        user_id=getattr(user, "id", None),
        # Kept as metadata and quoted in change requests: what a file system allowed in it
        # (control characters) is dropped rather than refused.
        filename=printable(Path(filename or "").name)[:255] or "ledger.xlsx",
        sha256=digest,
        size=len(data),
    )
    session.add(batch)
    session.flush()
    path = stored_file(storage, batch)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)  # named by the new batch's id: no other row's file
    files.adopt(session, path)
    return batch


def stored_file(storage: Path, batch: ImportBatch) -> Path:
    """Where an upload is kept: under the storage path, never under static/."""
    return storage / "imports" / f"{batch.id}-{batch.sha256[:16]}.xlsx"


SYSTEM_ERROR = "处理文件时发生系统错误，台账未作任何修改；请重试或联系管理员"


def run_import(
    session: Session,
    batch_id: int,
    storage: Path,
    progress: Callable[[int, int], None] | None = None,
) -> ImportBatch:
    """Process a stored upload to its end, committing progress as rows are read (a job, and
    the CLI). Whatever happens, the batch ends refused or previewed, never "processing":
    an error is recorded on it, committed, and raised again for the caller to log. A batch
    settled as interrupted meanwhile (it waited past its lease) is left as it was."""
    batch = session.get_one(ImportBatch, batch_id)

    def counted(done: int, total: int) -> None:
        # Only the counters are committed: nothing of the ledger is written yet.
        jobs.progress(session, IMPORTS, batch, progress=done, total=total)
        if progress:
            progress(done, total)

    try:
        jobs.progress(session, IMPORTS, batch)  # taken up now: the lease runs from here
        process_import(session, batch, stored_file(storage, batch).read_bytes(), counted)
    except jobs.LeaseLost:
        log.warning("import batch %s was settled as interrupted while processing", batch_id)
        return session.get_one(ImportBatch, batch_id)
    except Exception:
        session.rollback()
        batch = session.get_one(ImportBatch, batch_id)
        _record(batch, _refused([SYSTEM_ERROR], []))
        session.commit()
        raise
    session.commit()
    return batch


def process_import(
    session: Session,
    batch: ImportBatch,
    data: bytes,
    progress: Callable[[int, int], None] | None = None,
) -> ImportBatch:
    """Read and check the file, then store either every problem or the preview of differences."""
    campaign = session.get_one(Campaign, batch.campaign_id)
    unit = session.get_one(Unit, batch.unit_id)
    ledger = unit_ledger(session, campaign, unit)
    if ledger.status == LedgerStatus.SUBMITTED:
        return _refuse(session, batch, [LOCKED], [])
    try:
        result = excel.read_workbook(data, unit_context(session, unit), progress)
    except excel.FileRefused as e:
        return _refuse(session, batch, [f"文件《{batch.filename}》：{e}"], [])
    except jobs.LeaseLost:  # from ``progress``: the batch was settled, this worker stops
        raise
    except Exception:
        # The readers met something in the file the checks did not foresee: the file is
        # refused (and the case logged to be looked at), the request does not fail.
        log.exception("import batch %s: reading %s failed", batch.id, batch.filename)
        return _refuse(session, batch, [f"文件《{batch.filename}》：{UNREADABLE}"], [])
    problems = [str(p) for p in result.problems]
    holders = _other_units_holding(session, campaign, unit, [r["credit_code"] for r in result.rows])
    known = set(
        session.execute(
            select(LedgerConflict.credit_code, LedgerConflict.holder_unit_id).where(
                LedgerConflict.campaign_id == campaign.id,
                LedgerConflict.claimant_unit_id == unit.id,
                LedgerConflict.resolved_at.is_(None),
            )
        ).all()
    )
    for row in result.rows:
        held = holders.get(row["credit_code"])
        if held:
            problems.append(str(_held_elsewhere(row, held[1])))
            if (row["credit_code"], held[0]) not in known:  # told once, not at every re-upload
                session.add(
                    LedgerConflict(
                        campaign_id=campaign.id,
                        credit_code=row["credit_code"],
                        name=row["name"],
                        holder_unit_id=held[0],
                        claimant_unit_id=unit.id,
                        import_batch_id=batch.id,
                    )
                )
    if problems:
        return _refuse(session, batch, problems, result.notices)
    diff, summary = _diff(_stored_rows(session, campaign, unit), result.rows, ledger.is_editable)
    summary["fingerprint"] = _fingerprint(session, campaign, unit)
    jobs.hold(session, IMPORTS, batch)  # the preview is recorded under the batch's lease
    notices = result.notices + exits_notices(session, summary, applied=False)
    batch.diff, batch.summary, batch.notices = diff, summary, notices
    batch.total = batch.progress = len(result.rows)
    batch.status = "previewed"
    # Only the newest preview of a unit can be applied; older ones were made against other data.
    session.execute(
        update(ImportBatch)
        .where(
            ImportBatch.unit_id == unit.id,
            ImportBatch.campaign_id == campaign.id,
            ImportBatch.status == "previewed",
            ImportBatch.id != batch.id,
        )
        .values(status="discarded")
    )
    session.flush()
    return batch


def _held_elsewhere(row: dict, unit_name: str) -> excel.Problem:
    """The problem of a file row whose organization another unit's ledger holds."""
    return excel.Problem(
        f"{row['credit_code']} 已在{unit_name}的台账中，同一组织不能由两个单位填报，请与该单位核实",
        row["_sheet"],
        row["_row"],
        "",
        "统一社会信用代码",
    )


def annotated_file(session: Session, batch: ImportBatch, storage: Path) -> bytes | None:
    """A refused upload given back to be corrected where the operator works (WPS, Excel):
    the file as he sent it with every cell it was refused for filled red and commented
    (``excel.annotate``). The file is checked again as it was at upload. None when there is
    nothing to mark: not refused, or refused as a whole (unreadable, locked, too large)."""
    if batch.status != "refused":
        return None
    campaign = session.get_one(Campaign, batch.campaign_id)
    unit = session.get_one(Unit, batch.unit_id)
    try:
        data = stored_file(storage, batch).read_bytes()
        result = excel.read_workbook(data, unit_context(session, unit))
    except (OSError, excel.FileRefused):
        return None
    holders = _other_units_holding(session, campaign, unit, [r["credit_code"] for r in result.rows])
    problems = list(result.problems) + [
        _held_elsewhere(row, holders[row["credit_code"]][1])
        for row in result.rows
        if row["credit_code"] in holders
    ]
    if not problems:
        return None
    try:
        return excel.annotate(data, problems)
    except Exception:
        # What calamine read, openpyxl could not: the list on the page still says it all.
        log.exception("import batch %s: marking %s failed", batch.id, batch.filename)
        return None


UNREADABLE = "文件无法读取，请在 Excel 或 WPS 中重新保存为 .xlsx 后上传；如仍不行请联系管理员"
LOCKED = "台账已报送审核，审核期间不能导入；如需修改，请市级专班退回后再导入"


def _fingerprint(session: Session, campaign: Campaign, unit: Unit) -> str:
    """What the preview was computed against: row count and last change of the unit's ledger."""
    count, last = session.execute(
        select(func.count(), func.max(Organization.updated_at)).where(
            Organization.campaign_id == campaign.id, Organization.unit_id == unit.id
        )
    ).one()
    return f"{count}:{last.isoformat() if last else ''}"


INTERRUPTED = "处理被中断（服务重启等），台账未作任何修改，请重新上传"


def _refused(problems: list[str], notices: list[str]) -> dict[str, Any]:
    return {"status": "refused", "problems": problems, "notices": notices}


def _record(batch: ImportBatch, values: dict[str, Any]) -> ImportBatch:
    for name, value in values.items():
        setattr(batch, name, value)
    return batch


def _refuse(
    session: Session, batch: ImportBatch, problems: list[str], notices: list[str]
) -> ImportBatch:
    """Record the batch refused, under its lease (see ``jobs.hold``)."""
    jobs.hold(session, IMPORTS, batch)
    return _record(batch, _refused(problems, notices))


# An upload being processed by a worker thread of a web process: one that has reported no
# progress for half an hour lost its worker (a restart) and is refused, to be uploaded again.
IMPORTS = jobs.Kind(
    ImportBatch,
    running="processing",
    heartbeat=ImportBatch.heartbeat_at,
    lease=timedelta(minutes=30),
    abandoned=lambda moment: _refused([INTERRUPTED], []),
)


def _held_exit(values: tuple, old: dict | None) -> str | None:
    """The 空壳/僵尸/影子 status a file row gives an enterprise still in the base: it is not
    written (the enterprise stays in the base), an exclusion proposal is filed for 工商 to
    confirm, as the 剔除 button would (``services.propose_exclusion``)."""
    status = values[_STATUS_AT]
    if values[_KIND_AT] != OrgKind.ENTERPRISE or status not in EXITS[OrgKind.ENTERPRISE]:
        return None
    if old is not None and old["operating_status"] in EXCLUDED_STATUSES:
        return None  # out of the base already (confirmed): the file keeps it out
    return status


def _diff(stored: dict[str, dict], rows: list[dict], editable: bool) -> tuple[list, dict]:
    """What applying ``rows`` would do: add, update, remove (drafts only), and how many stay.
    An enterprise the file marks 空壳/僵尸/影子 keeps its status (正常 if new) in a draft, and
    is proposed for 工商's confirmation (``summary["exits"]``: {code: status}); on the approved
    base the change request carries the status, and its acceptance proposes it."""
    diff, same, added, updated = [], 0, 0, 0
    exits: dict[str, str] = {}
    for row in rows:
        old = stored.pop(row["credit_code"], None)
        try:
            values = _COMPARED_VALUES(row)
        except KeyError:  # a file without an optional column: the ledger's value stays
            values = tuple(
                row[f] if f in row else old[f] if old is not None else excel.ABSENT.get(f)
                for f in COMPARED
            )
        held = _held_exit(values, old)
        if held is not None:
            exits[row["credit_code"]] = str(held)
            if editable:
                kept = old["operating_status"] if old else OperatingStatus.NORMAL.value
                values = (*values[:_STATUS_AT], kept, *values[_STATUS_AT + 1 :])
        if old is None:
            added += 1
            diff.append(
                {
                    "action": ChangeAction.ADD,
                    "credit_code": row["credit_code"],
                    "name": row["name"],
                    "values": values,
                    "where": [row["_sheet"], row["_row"]],
                }
            )
            continue
        changes = {
            f: [old[f], new] for f, new in zip(COMPARED, values, strict=True) if old[f] != new
        }
        if changes:
            updated += 1
            diff.append(
                {
                    "action": ChangeAction.UPDATE,
                    "credit_code": row["credit_code"],
                    "name": row["name"],
                    "id": old["id"],
                    "changes": changes,
                    "values": values,
                    "where": [row["_sheet"], row["_row"]],
                }
            )
        else:
            same += 1
    if editable:
        for code, old in stored.items():
            diff.append(
                {
                    "action": ChangeAction.REMOVE,
                    "credit_code": code,
                    "name": old["name"],
                    "id": old["id"],
                }
            )
    summary = {
        "add": added,
        "update": updated,
        "remove": len(stored) if editable else 0,
        "same": same,
        "untouched": 0 if editable else len(stored),
        "editable": editable,
        "exits": exits,
    }
    return diff, summary


STALE_PREVIEW = "预览之后台账已有变化，请重新上传文件预览差异"


def _file_values(item: dict) -> list:
    """An added or changed row of a stored preview as its values in ``COMPARED`` order."""
    if "values" not in item:  # a preview stored before rows were lists
        return [item["row"].get(f) for f in COMPARED]
    if len(item["values"]) != len(COMPARED):
        raise ValidationFailed([("batch", STALE_PREVIEW)])
    return item["values"]


# Told to every submission of an apply or discard but the first (a double click, two tabs).
IMPORT_DONE = "该导入已由他人（或另一次提交）处理，未重复导入"
ALREADY_PROPOSED = "该文件提出的变更已在待审核的变更申请中，未重复提交"


def _settle(session: Session, batch: ImportBatch, status: str, **values) -> None:
    """Claim the previewed batch for one outcome before any work: of several submissions of
    apply or discard the first wins, the others get IMPORT_DONE (rolled back)."""
    if batch.status not in ("previewed", "applied", "discarded"):
        raise ValidationFailed([("batch", _NOT_PREVIEWED[status])])
    claim(session, batch, ImportBatch.status == "previewed", IMPORT_DONE, status=status, **values)


_NOT_PREVIEWED = {
    "applied": "该文件未通过校验或已处理，不能再次导入",
    "discarded": "该文件已处理，不能放弃",
}


def apply_import(session: Session, batch: ImportBatch, user) -> dict:
    """Apply a previewed import whole: replace a draft ledger, or file change requests."""
    _settle(session, batch, "applied", applied_at=now())
    campaign = session.get_one(Campaign, batch.campaign_id)
    unit = session.get_one(Unit, batch.unit_id)
    ledger = unit_ledger(session, campaign, unit)
    # The unit's ledger row, claimed until commit: a second import applied at once, or the
    # unit's submission for review, waits for this one, then finds the ledger changed (a
    # draft), its changes already proposed (the base), or the import applied.
    claim(session, ledger, UnitLedger.status != LedgerStatus.SUBMITTED, LOCKED)
    summary = batch.summary
    if (
        ledger.is_editable != summary["editable"]
        or _fingerprint(session, campaign, unit) != summary["fingerprint"]
    ):
        raise ValidationFailed([("batch", STALE_PREVIEW)])
    diff = batch.diff
    added = [d["credit_code"] for d in diff if d["action"] == ChangeAction.ADD]
    taken = _other_units_holding(session, campaign, unit, added)
    if taken:
        code, (_, unit_name) = next(iter(taken.items()))
        raise ValidationFailed(
            [
                (
                    "batch",
                    f"预览之后，{code} 已进入{unit_name}的台账（共{len(taken)}个重复），请重新上传",
                )
            ]
        )
    areas = area_ids(session, unit.id)
    if ledger.is_editable:
        _replace_draft(session, campaign, unit, diff, areas, user, batch.id)
        _propose_exits(session, campaign, unit, summary.get("exits", {}), user, batch.id)
        figures.stale(session, campaign, [unit.id])  # Core writes: recount the unit
    else:
        _propose(session, campaign, unit, diff, batch, user)
    told = exits_notices(session, summary, applied=False)
    batch.notices = [n for n in batch.notices or [] if n not in told] + exits_notices(
        session, summary, applied=True
    )
    audit.record(
        session,
        user=user,
        action="ledger.import",
        obj_type="import_batch",
        obj_id=batch.id,
        after={"unit": unit.code, "file": batch.filename, "sha256": batch.sha256, **summary},
    )
    session.flush()
    return summary


def _confirmer(session: Session) -> str:
    """The name of the department that confirms enterprises' exclusions (工商's remit)."""
    name = session.scalar(
        select(Unit.name).where(Unit.remit == Remit.AIC, Unit.active.is_(True)).limit(1)
    )
    return name or "工商部门"


def exits_notices(session: Session, summary: dict, *, applied: bool) -> list[str]:
    """What the preview, then the result, tells of the enterprises the file marks 空壳/僵尸/
    影子: proposed to 工商, counted in the base until it confirms."""
    count = len(summary.get("exits") or {})
    if not count:
        return []
    marked = f"{count}家企业标为空壳/僵尸/影子，"
    if not summary["editable"]:
        when = "变更申请通过后提请" if applied else "导入并经变更申请通过后将提请"
    else:
        when = "已提请" if applied else "导入后将提请"
    return [f"{marked}{when}{_confirmer(session)}确认，确认前仍计入党建基数"]


def _propose_exits(
    session: Session, campaign: Campaign, unit: Unit, exits: dict[str, str], user, batch_id: int
) -> None:
    """File the exclusion proposals of the enterprises the file marks 空壳/僵尸/影子 (kept in
    the base by ``_replace_draft``), as the 剔除 button files them (``propose_exclusion``): the
    importing user proposes, the file's status is the reason; one already waiting is not
    filed again."""
    if not exits:
        return
    ids: dict[str, int] = {
        code: org_id
        for code, org_id in session.execute(
            select(Organization.credit_code, Organization.id).where(
                Organization.campaign_id == campaign.id,
                Organization.unit_id == unit.id,
                Organization.in_base.is_(True),
                one_of(session, Organization.credit_code, list(exits)),
            )
        )
    }
    for org_id in sorted(ids.values()):  # against a 剔除 button pressed meanwhile
        serialize(session, ExclusionProposal.__table__, org_id)
    waiting = pending_ids(session, campaign, [unit.id])
    stamp, entries = now(), []
    for code, org_id in ids.items():
        if org_id in waiting:
            continue
        label = OperatingStatus(exits[code]).label
        reason = f"台账导入（导入记录#{batch_id}）：经营状态为“{label}”"
        session.add(
            ExclusionProposal(
                campaign_id=campaign.id,
                organization_id=org_id,
                unit_id=unit.id,
                status=OperatingStatus(exits[code]),
                reason=reason,
                proposed_by_id=getattr(user, "id", None),
                proposed_at=stamp,
            )
        )
        entries.append(
            {
                "action": "organization.exclusion_proposed",
                "obj_type": "organization",
                "obj_id": org_id,
                "after": {"proposed_status": exits[code], "reason": reason},
            }
        )
    session.flush()
    audit.record_many(session, user=user, entries=entries)


def _hashable(payload: dict) -> tuple:
    """A change request's values as a set member (the tags, a list, as a tuple)."""
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in payload.items())


def _propose(session: Session, campaign: Campaign, unit: Unit, diff: list, batch, user) -> None:
    """File the file's additions and corrections to the approved base as change requests;
    the same file applied twice (two uploads of it) proposes them once."""
    pending = {
        (action, code, _hashable(payload))
        for action, code, payload in session.execute(
            select(ChangeRequest.action, ChangeRequest.credit_code, ChangeRequest.payload).where(
                ChangeRequest.campaign_id == campaign.id,
                ChangeRequest.unit_id == unit.id,
                ChangeRequest.status == ChangeStatus.PENDING,
            )
        )
    }
    proposed = 0
    for item in diff:
        payload = dict(zip(COMPARED, _file_values(item), strict=True))
        if (item["action"], item["credit_code"], _hashable(payload)) in pending:
            continue
        proposed += 1
        session.add(
            ChangeRequest(
                campaign_id=campaign.id,
                unit_id=unit.id,
                organization_id=item.get("id"),
                action=ChangeAction(item["action"]),
                credit_code=item["credit_code"],
                payload=payload,
                reason=f"导入文件《{batch.filename}》",
                requested_by_id=getattr(user, "id", None),
                import_batch_id=batch.id,
            )
        )
    if diff and not proposed:
        raise Conflict(ALREADY_PROPOSED)


def _exclusion(data: dict, leaving: bool, user, batch_id: int) -> dict:
    """Who took a row out of the base through this import, and why (DOMAIN.md §5)."""
    if not leaving:
        return {"exclusion_note": "", "exclusion_decided_by_id": None, "exclusion_decided_at": None}
    label = OperatingStatus(data["operating_status"]).label
    return {
        "exclusion_note": f"台账导入（导入记录#{batch_id}）：经营状态为“{label}”",
        "exclusion_decided_by_id": getattr(user, "id", None),
        "exclusion_decided_at": now(),
    }


# An added organization as inserted: its file values, then what the import decides about it.
_ADDED = (
    *excel.LEDGER_FIELDS,
    "area_id",
    "in_base",
    "target",
    "path",
    "rule_codes",
    "coverage_means",
    "exclusion_note",
    "exclusion_decided_by_id",
    "exclusion_decided_at",
    "category",
)
_FILE_FIELDS = len(excel.LEDGER_FIELDS)  # COMPARED starts with them
_FACTS_AT = itemgetter(*(COMPARED.index(f) for f in rules.EVALUATED_FACTS))
_TAGS_AT = COMPARED.index("tags")
_DATES_AT = [i for i, f in enumerate(COMPARED) if f in excel.DATE_FIELDS]
_AREA_AT = COMPARED.index("area_name")
_STATUS_AT = COMPARED.index("operating_status")
_KIND_AT = COMPARED.index("kind")


def _verdicts(rule_set: rules.RuleSet) -> Callable[[list], dict]:
    """``apply_rules`` for a file row's values, evaluated once per combination of the facts it
    reads."""
    known: dict[tuple, dict] = {}

    def verdict(values: list) -> dict:
        # The tags (a list) as a tuple: a key is hashable.
        key = tuple(tuple(v) if isinstance(v, list) else v for v in _FACTS_AT(values))
        if key not in known:
            known[key] = apply_rules(dict(zip(rules.EVALUATED_FACTS, key, strict=True)), rule_set)
        return known[key]

    return verdict


def _added_row(values: list, areas: dict[str, int], verdict: dict, exclusion: dict) -> tuple:
    """An added file row as a tuple in ``_ADDED`` order (what ``ledger_values`` gives, as a tuple)."""
    for i in _DATES_AT:
        if isinstance(values[i], str):
            values[i] = date.fromisoformat(values[i])
    return (
        *values[:_FILE_FIELDS],
        areas.get(values[_AREA_AT] or ""),
        verdict["in_base"],
        verdict["target"],
        verdict["path"],
        verdict["rule_codes"],
        verdict["coverage_means"],
        exclusion["exclusion_note"],
        exclusion["exclusion_decided_by_id"],
        exclusion["exclusion_decided_at"],
        primary_tag(values[_TAGS_AT]),
    )


def _replace_draft(session, campaign, unit, diff, areas, user, batch_id: int) -> None:
    verdict_of = _verdicts(rulesets.rule_set_of(campaign))
    staying = _exclusion({}, False, user, batch_id)
    adds, updates, exclusions, removes, entries = [], [], [], [], []
    for item in diff:
        action = item["action"]
        if action == ChangeAction.REMOVE:
            removes.append(item["id"])
            continue
        values = _file_values(item)
        verdict = verdict_of(values)
        leaving = not verdict["in_base"] and (
            action == ChangeAction.ADD or "operating_status" in item["changes"]
        )
        if action == ChangeAction.ADD:
            status = {"operating_status": values[_STATUS_AT]}
            exclusion = _exclusion(status, True, user, batch_id) if leaving else staying
            adds.append(_added_row(values, areas, verdict, exclusion))
            continue
        row = dict(zip(COMPARED, values, strict=True))
        data = {**ledger_values(row, areas), **verdict}
        if leaving:
            exclusions.append({"id": item["id"], **data, **_exclusion(data, True, user, batch_id)})
        else:
            updates.append({"id": item["id"], **data})
            entries.append(
                {
                    "action": "organization.update",
                    "obj_type": "organization",
                    "obj_id": item["id"],
                    "before": {f: old for f, (old, _) in item["changes"].items()},
                    "after": {f: new for f, (_, new) in item["changes"].items()},
                }
            )
    if removes:
        before = session.execute(
            select(Organization.id, Organization.credit_code, Organization.name).where(
                one_of(session, Organization.id, removes)
            )
        ).all()
        entries += [
            {
                "action": "organization.remove",
                "obj_type": "organization",
                "obj_id": r.id,
                "before": {"credit_code": r.credit_code, "name": r.name},
            }
            for r in before
        ]
        session.execute(delete(Organization).where(one_of(session, Organization.id, removes)))
    for rows in (updates, exclusions):
        if rows:
            session.execute(update(Organization), rows)
    if adds:
        stamp = now()
        insert_rows(
            session,
            Organization.__table__,
            _ADDED,
            adds,
            shared={
                "campaign_id": campaign.id,
                "unit_id": unit.id,
                "created_at": stamp,
                "updated_at": stamp,
            },
        )
        # One read of the unit's ledger gives the new ids (codes are unique in a campaign).
        ids = dict(
            session.execute(
                select(Organization.credit_code, Organization.id).where(
                    Organization.campaign_id == campaign.id, Organization.unit_id == unit.id
                )
            ).all()
        )
        code_at, name_at = _ADDED.index("credit_code"), _ADDED.index("name")
        entries += [
            {
                "action": "organization.create",
                "obj_type": "organization",
                "obj_id": ids[a[code_at]],
                # The full row is in the stored file, whose SHA-256 the import's entry holds.
                "after": {"credit_code": a[code_at], "name": a[name_at], "import_batch": batch_id},
            }
            for a in adds
        ]
    audit.record_many(session, user=user, entries=entries)


def discard_import(session: Session, batch: ImportBatch, user) -> None:
    """Drop a previewed import without applying it."""
    _settle(session, batch, "discarded")
    audit.record(
        session, user=user, action="ledger.import_discard", obj_type="import_batch", obj_id=batch.id
    )
