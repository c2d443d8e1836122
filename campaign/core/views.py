"""Login and logout; the campaign's settings and phases."""

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from campaign import rulesets, targets
from campaign.core import campaigns, permissions, rule_changes, throttle
from campaign.core.accounts import authenticate, end_sessions, record_login
from campaign.core.commit import commit
from campaign.core.db import Session
from campaign.core.extensions import db
from campaign.core.models import Actor, Campaign, CityProfile, Phase, Unit
from campaign.core.webforms import perform

bp = Blueprint("core", __name__)
Edited = TypeVar("Edited", Campaign, Phase)


@bp.app_context_processor
def brand() -> dict[str, Any]:
    """The header's name of the system: the city's (`flask init`), else the latest
    campaign's, never another city's."""
    profile = db.session.get(CityProfile, 1)
    if profile is None:
        latest = campaigns.latest_campaign(db.session)
        city = latest.city_name if latest is not None else ""
    else:
        city = profile.city_name
    latest = campaigns.latest_campaign(db.session) if _is_verifier() else None
    return {
        "brand": f"{city}“两新”组织党建工作",
        # A verifying department's way to its remit in the latest campaign.
        "remit_campaign": latest.id if latest is not None else None,
    }


def _is_verifier() -> bool:
    return bool(current_user and current_user.is_authenticated and current_user.role == "verifier")


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名")])
    password = PasswordField("密码", validators=[DataRequired("请输入密码")])


def _local_target(target: str) -> str:
    """``target`` if it is a path on this site, else the overview.

    Browsers drop tabs and newlines and read backslashes as slashes, so
    "/\t/evil.example" is a link to another site: judge the URL as they will.
    """
    cleaned = "".join(ch for ch in target if ch >= " ").replace("\\", "/")
    parts = urlsplit(cleaned)
    if not cleaned.startswith("/") or cleaned.startswith("//") or parts.scheme or parts.netloc:
        return url_for("home.index")
    return cleaned


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        assert form.username.data is not None and form.password.data is not None  # required
        username, address = form.username.data.strip(), request.remote_addr
        if throttle.refused(username, address):
            abort(429)
        user = authenticate(db.session, username, form.password.data)
        if user:
            throttle.succeeded(username, address)
            commit(lambda: record_login(db.session, user))
            login_user(user)
            if user.must_change_password:  # a one-time password: his own comes first
                flash("您使用的是管理员提供的一次性密码，请先设置自己的密码。", "info")
                return redirect(url_for("accounts.password"))
            return redirect(_local_target(request.args.get("next", "")))
        throttle.failed(username, address)
        flash("用户名或密码错误。", "error")
        status = 401
    elif request.method == "POST":
        status = 400
    # Sent here by login_required (which adds where to return to): say why, on the page
    # rather than through the session (see app._init_login).
    asked = request.method == "GET" and bool(request.args.get("next"))
    return render_template("core/login.html", form=form, asked=asked), status


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """The tab's icon where a browser looks for it unasked (base.html names it too)."""
    return current_app.send_static_file("favicon.ico")


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    # Ends the session on the server too: a copy of the cookie is refused from now on.
    end_sessions(db.session, current_user)
    db.session.commit()
    logout_user()
    flash("已退出登录。", "info")
    return redirect(url_for("core.login"))


# ---- the campaign's settings and phases ------------------------------------------------


def _edit_form(
    obj: Edited,
    read: Callable[[Mapping[str, Any]], dict[str, Any]],
    update: Callable[[Session, Edited, Mapping[str, Any], Actor], dict[str, Any]],
    fields: Mapping[str, tuple[str, campaigns.SettingKind]],
    template: str,
    saved: str,
    done_url: str,
    **context: Any,
) -> ResponseReturnValue:
    """GET shows the form; POST reads it (``read``) and applies ``update`` whole, or
    re-renders with every problem."""
    form, status = FlaskForm(), 200
    problems: list[tuple[str, str]] = []
    if form.validate_on_submit():
        outcome = commit(lambda: update(db.session, obj, read(request.form), current_user))
        if (refusal := outcome.refusal) is None:
            flash(saved if outcome.result else "没有修改。", "success")
            return redirect(done_url)
        problems, status = refusal.problems, refusal.status
    return render_template(
        template,
        form=form,
        fields=fields,
        problems=dict(problems),
        submitted=request.form if problems else None,
        **context,
    ), status


@bp.route("/campaigns/<int:campaign_id>/settings", methods=["GET", "POST"])
@login_required
def settings(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.ensure(permissions.may_edit_campaign, current_user)
    return _edit_form(
        campaign,
        campaigns.settings_from,
        campaigns.update_settings,
        campaigns.SETTINGS,
        "core/settings.html",
        "设置已保存。",
        url_for("core.settings", campaign_id=campaign.id),
        campaign=campaign,
        **_targets_context(campaign),
    )


def _targets_context(campaign: Campaign, **given: Any) -> dict[str, Any]:
    """What the settings page's table of targets shows: the campaign's targets other than its
    city-wide settings, and the units, kinds and rates to choose from."""
    responsible = db.session.scalars(
        db.select(Unit).where(Unit.is_responsible).order_by(Unit.position, Unit.id)
    )
    return {
        "goals": targets.load(db.session, campaign),
        "target_units": list(responsible),
        "rates": targets.Rate,
        "scopes": targets.Scope,
        "target_problems": {},
        "target_submitted": None,
        **given,
    }


@bp.post("/campaigns/<int:campaign_id>/targets")
@login_required
def set_target(campaign_id: int) -> ResponseReturnValue:
    """Set a unit's or a kind's own target (coordinators), or remove one; a refused one
    re-renders the settings page with every problem."""
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.ensure(permissions.may_edit_campaign, current_user)
    done = url_for("core.settings", campaign_id=campaign.id) + "#targets"
    if request.form.get("action") == "remove":
        try:
            target_id = int(request.form.get("target_id", ""))
        except ValueError:
            abort(404)
        perform(
            lambda: targets.remove_target(db.session, campaign, target_id, current_user),
            lambda what: f"已删除{what}，改按上一级目标。",
        )
        return redirect(done)
    form = FlaskForm()
    if form.validate_on_submit():
        outcome = commit(
            lambda: targets.set_target(
                db.session, campaign, targets.target_from(request.form), current_user
            )
        )
        if (refusal := outcome.refusal) is None:
            flash("目标已保存。" if outcome.result else "没有修改。", "success")
            return redirect(done)
        problems, status = dict(refusal.problems), refusal.status
    else:
        problems, status = {"": "表单已失效，请刷新页面后重试。"}, 400
    return render_template(
        "core/settings.html",
        form=form,
        fields=campaigns.SETTINGS,
        problems={},
        submitted=None,
        campaign=campaign,
        **_targets_context(campaign, target_problems=problems, target_submitted=request.form),
    ), status


@bp.route("/campaigns/<int:campaign_id>/rules", methods=["GET", "POST"])
@login_required
def rules(campaign_id: int) -> ResponseReturnValue:
    """The campaign's rules in plain Chinese, with what each covers (in the user's units);
    coordinators change them: freely before the base is approved, after it previewed first
    and confirmed."""
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    form, status = FlaskForm(), 200
    problems: list[tuple[str, str]] = []
    effect = None
    approved = rulesets.baseline_approved(db.session, campaign)
    if request.method == "POST":
        permissions.ensure(permissions.may_edit_campaign, current_user)
    if form.validate_on_submit():
        confirmed = not approved or request.form.get("confirm") == "1"

        def change() -> rule_changes.RulesEffect:
            stored, settings = rule_changes.rules_from_form(campaign, request.form)
            return rule_changes.change_rules(
                db.session, campaign, stored, current_user, settings, confirmed=True
            )

        outcome = commit(change, rehearsal=not confirmed)
        if (refusal := outcome.refusal) is None:
            if confirmed:
                done = outcome.result
                assert done is not None
                flash(
                    f"规则已修改：新增攻坚事项{len(done.opened)}个，不再需要的攻坚事项"
                    f"{len(done.closed)}个；{rule_changes.figures_text(done.before, done.after)}。",
                    "success",
                )
                return redirect(url_for("core.rules", campaign_id=campaign.id))
            effect = outcome.result
        else:
            problems, status = refusal.problems, refusal.status
    rule_set = rulesets.rule_set_of(campaign)
    counts = rulesets.rule_counts(
        db.session, campaign, rule_set, permissions.visible_unit_ids(current_user)
    )
    return render_template(
        "core/rules.html",
        form=form,
        campaign=campaign,
        rule_set=rule_set,
        rows=list(zip(rule_set.rules, counts, strict=True)),
        line=rulesets.rule_line,
        scope=rulesets.scope_text,
        presets=rulesets.PRESETS,
        approved=approved,
        may_edit=permissions.may_edit_campaign(current_user),
        effect=effect,
        figures_text=rule_changes.figures_text,
        yaml_text=request.form.get("yaml") or rulesets.export_yaml(campaign),
        problems=problems,
        submitted=request.form,
    ), status


@bp.route("/campaigns/<int:campaign_id>/phases/<int:phase_id>", methods=["GET", "POST"])
@login_required
def edit_phase(campaign_id: int, phase_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.ensure(permissions.may_edit_campaign, current_user)
    phase = db.session.get(Phase, phase_id)
    if phase is None or phase.campaign_id != campaign.id:
        abort(404)
    return _edit_form(
        phase,
        campaigns.phase_from,
        campaigns.update_phase,
        campaigns.PHASE_FIELDS,
        "core/phase.html",
        f"已保存“{phase.name}”。",
        url_for("home.campaign", campaign_id=campaign.id),
        campaign=campaign,
        phase=phase,
    )


# ---- new campaigns; their phases added, moved and removed --------------------------------


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def new_campaign() -> ResponseReturnValue:
    permissions.ensure(permissions.may_create_campaign, current_user)
    form, status = FlaskForm(), 200
    problems: list[tuple[str, str]] = []
    if form.validate_on_submit():

        def create() -> Campaign:
            template, year, values = campaigns.new_campaign_from(request.form)
            return campaigns.create_from_template(db.session, template, year, current_user, values)

        outcome = commit(create)
        if (refusal := outcome.refusal) is None:
            created = outcome.result
            assert created is not None  # committed
            flash(f"已创建攻坚行动“{created.name}”。", "success")
            return redirect(url_for("core.phases", campaign_id=created.id))
        problems, status = refusal.problems, refusal.status
    return render_template(
        "core/campaign_new.html",
        form=form,
        fields=campaigns.NEW_CAMPAIGN_FIELDS,
        templates=campaigns.TEMPLATE_CHOICES,
        presets=rulesets.PRESET_CHOICES,
        problems=dict(problems),
        submitted=request.form,
    ), status


def _phase_of(campaign: Campaign, phase_id: str | int | None) -> Phase:
    try:
        phase = db.session.get(Phase, int(phase_id or 0))
    except ValueError:
        phase = None
    if phase is None or phase.campaign_id != campaign.id:
        abort(404)
    return phase


@bp.route("/campaigns/<int:campaign_id>/phases", methods=["GET", "POST"])
@login_required
def phases(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.ensure(permissions.may_edit_campaign, current_user)
    if request.method == "POST":
        action = request.form.get("action", "")
        if action == "add":
            perform(
                lambda: campaigns.add_phase(
                    db.session, campaign, campaigns.phase_from(request.form), current_user
                ),
                lambda phase: f"已添加阶段“{phase.name}”。",
            )
        elif action in ("up", "down"):
            phase = _phase_of(campaign, request.form.get("phase_id"))
            perform(
                lambda: campaigns.move_phase(
                    db.session, phase, -1 if action == "up" else 1, current_user
                ),
                lambda moved: f"已调整“{phase.name}”的顺序。" if moved else "顺序未变。",
            )
        elif action == "remove":
            phase = _phase_of(campaign, request.form.get("phase_id"))
            name = phase.name
            perform(
                lambda: campaigns.remove_phase(db.session, phase, current_user),
                f"已删除阶段“{name}”。",
            )
        else:
            abort(400)
        return redirect(url_for("core.phases", campaign_id=campaign.id))
    return render_template(
        "core/phases.html",
        campaign=campaign,
        form=FlaskForm(),
        fields=campaigns.PHASE_FIELDS,
    )
