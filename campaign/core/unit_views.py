"""Units on the web: coordinators and admins see the tree (/units), add a unit (/units/new),
and rename, move, reorder, retire or reactivate one (/units/<code>)."""

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from campaign import display
from campaign.core import permissions, unit_sheet, units
from campaign.core.commit import commit
from campaign.core.extensions import db
from campaign.core.models import Unit
from campaign.core.sheet_import import import_page
from campaign.core.storage import MIMETYPES
from campaign.core.unit_inputs import NewUnit, UnitChanges
from campaign.core.vocab import Remit, UnitKind
from campaign.core.webforms import perform

bp = Blueprint("units", __name__)

Page = str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]
# The kinds that have units below them: what a parent may be.
PARENT_KINDS = (UnitKind.CITY, UnitKind.DISTRICT)


def _parents(current: Unit | None = None) -> list[tuple[Unit, int]]:
    """The units one may be put under (active cities and districts, in tree order), and the
    current parent whatever it is."""
    return [
        (u, depth)
        for u, depth in units.tree(db.session)
        if (u.kind in PARENT_KINDS and u.active) or u is current
    ]


def _unit_or_404(code: str) -> Unit:
    permissions.ensure(permissions.may_manage_units, current_user)
    return units.unit_by_code(db.session, code) or abort(404)


@bp.get("/units")
@login_required
def index() -> Page:
    permissions.ensure(permissions.may_manage_units, current_user)
    return render_template(
        "core/units.html", tree=units.tree(db.session), users=units.user_counts(db.session)
    )


@bp.get("/units.xlsx")
@login_required
def export() -> Response:
    """Every unit as the import reads them: the file to edit and import back."""
    permissions.ensure(permissions.may_manage_units, current_user)
    data = unit_sheet.export(db.session)
    return send_file(
        io.BytesIO(data),
        mimetype=MIMETYPES[".xlsx"],
        as_attachment=True,
        download_name="单位表.xlsx",
    )


@bp.route("/units/import", methods=["GET", "POST"])
@login_required
def import_units() -> Page:
    """A tree of units from xlsx (the file ``/units.xlsx`` gives): preview, then import."""
    permissions.ensure(permissions.may_manage_units, current_user)
    return import_page(
        "units",
        "导入单位",
        lambda data: unit_sheet.import_units(db.session, data, current_user),
        lambda done: f"已导入：{done.summary}。",
        url_for("units.index"),
        url_for("units.export"),
    )


@bp.route("/units/new", methods=["GET", "POST"])
@login_required
def new() -> Page:
    permissions.ensure(permissions.may_manage_units, current_user)
    form, problems, status = FlaskForm(), [], 200
    if form.validate_on_submit():
        wanted = NewUnit.from_form(request.form)
        outcome = commit(lambda: units.add_unit(db.session, wanted, current_user))
        if (refusal := outcome.refusal) is None:
            assert outcome.result is not None
            flash(f"已新增单位“{outcome.result.name}”（{outcome.result.code}）。", "success")
            return redirect(url_for("units.index"))
        problems, status = refusal.problems, refusal.status
    submitted = request.form if problems else {"parent": request.args.get("parent", "")}
    return render_template(
        "core/unit_new.html",
        form=form,
        problems=problems,
        fields=dict(problems),
        submitted=submitted,
        parents=_parents(),
    ), status


@bp.route("/units/<code>", methods=["GET", "POST"])
@login_required
def unit(code: str) -> Page:
    found = _unit_or_404(code)
    form, problems, status = FlaskForm(), [], 200
    if form.validate_on_submit():
        changes = UnitChanges.from_form(request.form)
        outcome = commit(lambda: units.update_unit(db.session, found, changes, current_user))
        if (refusal := outcome.refusal) is None:
            flash(f"已保存单位“{found.name}”。" if outcome.result else "没有修改。", "success")
            return redirect(url_for("units.unit", code=found.code))
        problems, status = refusal.problems, refusal.status
        db.session.refresh(found)
    return render_template(
        "core/unit.html",
        form=form,
        unit=found,
        problems=problems,
        fields=dict(problems),
        submitted=request.form if problems else None,
        parents=_parents(found.parent),
        users=units.user_counts(db.session).get(found.id, 0),
        history=display.change_record(db.session, units.history(db.session, found)),
    ), status


@bp.post("/units/<code>/remit")
@login_required
def remit(code: str) -> Response:
    """Make a city department a verifying department (or no longer one): what it checks."""
    found = _unit_or_404(code)
    wanted = request.form.get("remit", "")
    label = next((r.label for r in Remit if r.value == wanted), "无")
    perform(
        lambda: units.set_remit(db.session, found, wanted, current_user),
        lambda changed: f"已将“{found.name}”的核查职责设为：{label}。" if changed else "没有修改。",
    )
    return redirect(url_for("units.unit", code=code))


@bp.post("/units/<code>/retire")
@login_required
def retire(code: str) -> Response:
    found = _unit_or_404(code)
    perform(
        lambda: units.retire_unit(db.session, found, current_user),
        f"已撤销单位“{found.name}”：不再能分配用户；其记录保留。",
    )
    return redirect(url_for("units.unit", code=code))


@bp.post("/units/<code>/reactivate")
@login_required
def reactivate(code: str) -> Response:
    found = _unit_or_404(code)
    perform(
        lambda: units.reactivate_unit(db.session, found, current_user),
        f"已恢复单位“{found.name}”。",
    )
    return redirect(url_for("units.unit", code=code))
