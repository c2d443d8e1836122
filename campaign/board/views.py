"""挂图作战 pages: the city wall chart, a unit's board, an item, spot checks."""

from collections.abc import Mapping, Sequence
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from campaign import display, figures, rules, rulesets, targets
from campaign.board import services
from campaign.board.inputs import CHECKLIST, ClosureClaim, DrawSchema, Plan
from campaign.board.models import (
    APART,
    COLUMNS,
    BoardItem,
    CheckResult,
    Closure,
    ItemState,
    SpotCheck,
)
from campaign.core import clock, inputs, permissions
from campaign.core.campaigns import build_deadline
from campaign.core.commit import commit
from campaign.core.extensions import db
from campaign.core.models import Unit
from campaign.core.paging import page_arg
from campaign.core.storage import held as storage_held
from campaign.core.storage import hold as storage_hold
from campaign.core.storage import release as storage_release
from campaign.core.storage import send_stored
from campaign.core.vocab import JOINT_FORMS, OrgKind
from campaign.core.vocab import Path as RulePath
from campaign.core.webforms import perform
from campaign.forecast import services as forecast

bp = Blueprint("board", __name__)


@bp.get("/campaigns/<int:campaign_id>/board")
@login_required
def city(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    unit_ids = permissions.visible_unit_ids(current_user)
    rows = figures.by_unit(db.session, campaign, unit_ids)
    return render_template(
        "board/city.html",
        campaign=campaign,
        rows=rows,
        goals=targets.load(db.session, campaign),  # each tile against its unit's own target
        forecast=forecast.stored(db.session, campaign, rows),  # kept, not computed
        counts=services.unit_counts(db.session, campaign, unit_ids),
        deadline=build_deadline(campaign),
        days_left=(build_deadline(campaign) - clock.today(campaign.timezone)).days,
        sees_city=permissions.sees_city(current_user),  # spot checks span every unit
    )


def _filters() -> dict:
    keys = ("kind", "area", "path", "person", "overdue", "q")
    filters = {k: request.args.get(k, "").strip() for k in keys}
    if filters["area"] and not filters["area"].isdigit():
        filters["area"] = ""
    return filters


@bp.get("/campaigns/<int:campaign_id>/units/<code>/board")
@login_required
def unit(campaign_id: int, code: str) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    unit = permissions.unit_or_404(current_user, code)
    if not unit.is_responsible and unit.parent is not None:
        return redirect(url_for("board.unit", campaign_id=campaign.id, code=unit.parent.code))
    filters = _filters()
    page = page_arg()
    counts = services.column_counts(db.session, campaign, unit.id, filters)

    def column(state: ItemState) -> tuple[list[BoardItem], int]:
        # Closed items are the long column: a short page of them.
        per_page = 10 if state == ItemState.CLOSED else 30
        items = services.list_items(db.session, campaign, unit.id, filters, state, page, per_page)
        return items, counts.get(state, 0)

    areas = db.session.scalars(
        select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.position)
    )
    return render_template(
        "board/unit.html",
        campaign=campaign,
        unit=unit,
        columns={state: column(state) for state in COLUMNS},
        apart={state: column(state) for state in APART},
        filters=filters,
        page=page,
        areas=list(areas),
        paths=list(RulePath),
        kinds=list(OrgKind),
        today=clock.today(campaign.timezone),
        deadline=build_deadline(campaign),
        days_left=(build_deadline(campaign) - clock.today(campaign.timezone)).days,
        total=figures.overall(db.session, campaign, [unit.id]),
        goal=targets.load(db.session, campaign).of(targets.Rate.PARTY_ORG_COVERAGE, unit.id),
    )


def _item(campaign_id: int, item_id: int) -> BoardItem:
    return permissions.unit_record_or_404(current_user, BoardItem, item_id, campaign_id)


@bp.route("/campaigns/<int:campaign_id>/items/<int:item_id>", methods=["GET", "POST"])
@login_required
def item(campaign_id: int, item_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    item = _item(campaign.id, item_id)
    if request.method == "POST":
        action = request.form.get("action", "")
        if action == "close":
            return _close(campaign, item)
        _item_action(campaign, item, action)
        return redirect(url_for("board.item", campaign_id=campaign.id, item_id=item.id))
    return _item_page(campaign, item)


# The closure form's fields, each with the methods that ask for it (what the page shows as
# the method is chosen; the service reads only these for the method).
CLOSURE_FORM_FIELDS = {
    "covered_codes" if name == "covered_org_ids" else name: [
        m.value for m, names in services.ENTERED_FIELDS.items() if name in names
    ]
    for name in dict.fromkeys(n for names in services.ENTERED_FIELDS.values() for n in names)
}


def _item_page(
    campaign,
    item: BoardItem,
    problems: dict[str, str] | None = None,
    submitted: Mapping[str, str] | None = None,
    held: tuple[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """The item's page; after a refused closure, the form as it was sent (``submitted``, the
    held file's token and name) with every problem beside its field."""
    org = item.organization
    methods, default_method = services.closure_methods(item, campaign)
    problems = problems or {}
    return render_template(
        "board/item.html",
        campaign=campaign,
        item=item,
        org=org,
        requirement=rules.evaluate(org, rulesets.rule_set_of(campaign)),
        pending=services.pending_closure(item),
        history=display.change_record(db.session, services.history(db.session, item)),
        methods=methods,
        chosen_method=(submitted or {}).get("method") or default_method.value,
        method_fields=CLOSURE_FORM_FIELDS,
        submitted=submitted or {},
        problems=problems,
        # Problems of no field of the form (an expired form): below it.
        general=[
            m for f, m in problems.items() if f not in {*CLOSURE_FORM_FIELDS, "method", "document"}
        ],
        held=held,
        joint_forms=JOINT_FORMS,
        paths=list(RulePath),
        checklist=CHECKLIST,
        form=FlaskForm(),
        today=clock.today(campaign.timezone),
        may_work=permissions.may_work_items(current_user, item.unit),
        may_verify=permissions.may_verify_closures(current_user, item.unit),
        covered=_covered_names(item),
    ), status


def _close(campaign, item: BoardItem) -> ResponseReturnValue:
    """A 销号 claim from the item's form: filed, or the form again with everything entered
    (the chosen file kept) and every problem beside its field."""
    user, form = current_user, request.form
    permissions.ensure(permissions.may_work_items, user, item.unit)
    storage = Path(current_app.config["STORAGE_PATH"])
    owner = f"closure-{item.id}-{user.id}"
    upload = request.files.get("document")
    token = form.get("held_document", "")
    if upload and upload.filename:
        document: tuple[str, bytes] | None = (upload.filename, upload.read())
    else:
        document = storage_held(storage, owner, token)
    if not FlaskForm().validate_on_submit():
        outcome_problems = [("", "表单已失效，请刷新页面后重试。")]
    else:
        claimed = ClosureClaim.from_form(form)
        outcome = commit(
            lambda: services.submit_closure(db.session, item, claimed, document, user, storage)
        )
        if outcome.refusal is None:
            storage_release(storage, owner, token)
            flash("已提交销号，待单位负责人核验。", "success")
            return redirect(url_for("board.item", campaign_id=campaign.id, item_id=item.id))
        if outcome.refusal.status != 422:
            # Already done, or changed meanwhile: the item has moved on; its page says where.
            flash(outcome.refusal.message, "error")
            return redirect(url_for("board.item", campaign_id=campaign.id, item_id=item.id))
        outcome_problems = outcome.refusal.problems
    problems: dict[str, str] = {}
    for name, message in outcome_problems:  # a field refused twice says both
        problems[name] = f"{problems[name]}；{message}" if name in problems else message
    db.session.refresh(item)
    held = None
    # The file is kept for the next try, unless the file itself was refused.
    if document is not None and "document" not in problems:
        if not (token and storage_held(storage, owner, token) == document):
            token = storage_hold(storage, owner, *document)
        held = (token, document[0])
    return _item_page(campaign, item, problems, form, held, 422)


def _covered_names(item: BoardItem) -> dict[int, list[str]]:
    from campaign.ledger.models import Organization

    out = {}
    for closure in item.closures:
        ids = closure.covered_org_ids
        if ids:
            out[closure.id] = list(
                db.session.scalars(select(Organization.name).where(Organization.id.in_(ids)))
            )
    return out


def _item_action(campaign, item: BoardItem, action: str) -> None:
    user, form = current_user, request.form
    if action in ("plan", "note"):
        permissions.ensure(permissions.may_work_items, user, item.unit)
    elif action in ("verify", "return"):
        permissions.ensure(permissions.may_verify_closures, user, item.unit)
    if action == "plan":
        perform(
            lambda: services.update_plan(db.session, item, Plan.from_form(form), user),
            "计划已保存。",
        )
    elif action == "note":
        perform(
            lambda: services.add_note(db.session, item, form.get("text", ""), user), "已记录进展。"
        )
    elif action == "verify":
        perform(lambda: services.verify_closure(db.session, item, user), "已核验销号，计入统计。")
    elif action == "return":
        perform(
            lambda: services.return_closure(db.session, item, form.get("reason", ""), user),
            "已退回，回到推进中。",
        )
    else:
        abort(400)  # no such action


@bp.get("/campaigns/<int:campaign_id>/closures/<int:closure_id>/document")
@login_required
def document(campaign_id: int, closure_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    closure = db.session.get(Closure, closure_id) or abort(404)
    # A department on a spot check's team reads the closures drawn for it; others their units'.
    drawn_for_team = permissions.remit_of(current_user) is not None and any(
        closure.id in c.drawn_ids
        for c in services.teams_of(db.session, campaign, current_user.unit_id)
    )
    if not drawn_for_team:
        _item(campaign.id, closure.item_id)
    if not closure.document_path:
        abort(404)
    # Shown in the browser (its PDF viewer, or the image), for whoever must judge it.
    return send_stored(closure.document_path, closure.document_name, inline=True)


@bp.route("/campaigns/<int:campaign_id>/spot-checks", methods=["GET", "POST"])
@login_required
def spot_checks(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    on_teams = (
        services.teams_of(db.session, campaign, current_user.unit_id)
        if permissions.remit_of(current_user) is not None
        else []
    )
    # Checks span every unit: city-wide roles read them; a department those it is on.
    permissions.require(
        permissions.sees_city(current_user) or permissions.remit_of(current_user) is not None
    )
    if request.method == "POST":
        permissions.ensure(permissions.may_spot_check, current_user)
        form = request.form
        unit_ids = [int(u) for u in form.getlist("unit") if u.isdigit()] or None
        team = [int(u) for u in form.getlist("team") if u.isdigit()]

        def draw():
            asked = inputs.load(DrawSchema(), form)
            return services.draw(
                db.session,
                campaign,
                unit_ids,
                asked["mode"],
                asked["size"],
                current_user,
                seed=asked["seed"],
                kind=asked["kind"],
                note=asked["note"],
                team_unit_ids=team,
            )

        ok = perform(draw, "已抽取。")
        if ok:
            newest = db.session.scalar(
                select(SpotCheck)
                .where(SpotCheck.campaign_id == campaign.id)
                .order_by(SpotCheck.id.desc())
            )
            assert newest is not None  # just drawn
            return redirect(
                url_for("board.spot_check", campaign_id=campaign.id, check_id=newest.id)
            )
        return redirect(url_for("board.spot_checks", campaign_id=campaign.id))
    checks = (
        db.session.scalars(
            select(SpotCheck)
            .where(SpotCheck.campaign_id == campaign.id)
            .order_by(SpotCheck.id.desc())
        ).all()
        if permissions.sees_city(current_user)
        else on_teams
    )
    departments = db.session.scalars(
        select(Unit).where(Unit.remit != "", Unit.active).order_by(Unit.position, Unit.id)
    ).all()
    return render_template(
        "board/spot_checks.html",
        campaign=campaign,
        checks=checks,
        form=FlaskForm(),
        units=permissions.responsible_units(current_user),
        departments=departments,
        team_names=_team_names(checks),
        may_check=permissions.may_spot_check(current_user),
    )


@bp.route("/campaigns/<int:campaign_id>/spot-checks/<int:check_id>", methods=["GET", "POST"])
@login_required
def spot_check(campaign_id: int, check_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    check = db.session.get(SpotCheck, check_id)
    if check is None or check.campaign_id != campaign.id:
        abort(404)
    # Checks span every unit: city-wide roles read them; a department those it is on.
    permissions.require(permissions.sees_spot_check(current_user, check))
    if request.method == "POST":
        permissions.ensure(permissions.may_record_spot_result, current_user, check)
        result = next(
            (r for r in check.results if str(r.id) == request.form.get("result_id")), None
        )
        if result is None:
            abort(404)
        passed = request.form.get("verdict") == CheckResult.PASS
        perform(
            lambda: services.record_result(
                db.session,
                result,
                passed,
                request.form,
                request.form.get("notes", ""),
                current_user,
            ),
            "已记录检查结论。" if passed else "不合格：已撤销销号，该组织回到挂图作战。",
        )
        return redirect(url_for("board.spot_check", campaign_id=campaign.id, check_id=check.id))
    return render_template(
        "board/spot_check.html",
        campaign=campaign,
        check=check,
        form=FlaskForm(),
        checklist=CHECKLIST,
        reproduced=services.reproduce(check) == check.drawn_ids,
        scope=_scope(check),
        team=_team_names([check]).get(check.id, ""),
        may_check=permissions.may_record_spot_result(current_user, check),
    )


def _team_names(checks: Sequence[SpotCheck]) -> dict[int, str]:
    """Each check's team of departments, by name (none: no entry)."""
    ids = {i for c in checks for i in (c.team_unit_ids or [])}
    if not ids:
        return {}
    names = dict(
        db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).tuples().all()
    )
    return {
        c.id: "、".join(names[i] for i in c.team_unit_ids if i in names)
        for c in checks
        if c.team_unit_ids
    }


def _scope(check: SpotCheck) -> str:
    """Where a draw took its closures from, as the page says it: 全市, or the units."""
    if not check.unit_ids:
        return "全市"
    units = db.session.scalars(
        select(Unit).where(Unit.id.in_(check.unit_ids)).order_by(Unit.position, Unit.id)
    )
    return "、".join(u.name for u in units)
