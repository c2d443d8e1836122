"""Accounts on the web: admins create, change, disable and enable users and reset their
passwords (/users); every user changes his own password (/account/password), and one given
a one-time password does so before any other page opens."""

import io

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from campaign import display
from campaign.core import accounts, paging, permissions, throttle, user_sheet
from campaign.core.account_inputs import NewUser, PasswordChange, UserChanges
from campaign.core.commit import commit
from campaign.core.extensions import db
from campaign.core.models import User
from campaign.core.sheet_import import import_page
from campaign.core.storage import MIMETYPES
from campaign.core.vocab import Role
from campaign.core.webforms import perform

bp = Blueprint("accounts", __name__)

PER_PAGE = 50
# What a user who must change his password may still open.
OPEN_BEFORE_CHANGE = {"accounts.password", "core.logout", "static"}
MAX_SEARCH = 80

Page = str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]


@bp.before_app_request
def password_first() -> Response | None:
    """A user logged in with a one-time password goes to choose his own, whatever he asks
    for (the API authenticates by token, not by this session, and is left alone)."""
    if request.path.startswith("/api/") or request.endpoint in OPEN_BEFORE_CHANGE:
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("accounts.password"))
    return None


def _secret(html: str) -> tuple[str, int, dict[str, str]]:
    """A page showing a one-time password: kept by no cache, the browser's included."""
    return html, 200, {"Cache-Control": "no-store"}


# ---- the list ---------------------------------------------------------------------------


@bp.get("/users")
@login_required
def users() -> Page:
    permissions.ensure(permissions.may_administer_users, current_user)
    search = request.args.get("q", "").strip()[:MAX_SEARCH]
    role = next((r for r in Role if r == request.args.get("role")), None)
    status = request.args.get("status", "")
    found = paging.page_of(
        db.session,
        accounts.users_query(search, role, status),
        paging.page_arg(),
        PER_PAGE,
    )
    return render_template(
        "core/users.html",
        users=found,
        search=search,
        role=role,
        status=status,
        statuses=accounts.USER_STATUSES,
    )


# ---- creating ---------------------------------------------------------------------------


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def new_user() -> Page:
    permissions.ensure(permissions.may_administer_users, current_user)
    form, problems, status = FlaskForm(), [], 200
    if form.validate_on_submit():
        new = NewUser.from_form(request.form)
        outcome = commit(lambda: accounts.open_account(db.session, new, current_user))
        if (refusal := outcome.refusal) is None:
            assert outcome.result is not None
            issued = outcome.result
            return _secret(
                render_template(
                    "core/one_time_password.html",
                    user=issued.user,
                    password=issued.password,
                    created=True,
                )
            )
        problems, status = refusal.problems, refusal.status
    return render_template(
        "core/user_new.html",
        form=form,
        problems=dict(problems),
        submitted=request.form if problems else {},
        units=accounts.assignable_units(db.session),
    ), status


@bp.get("/users.xlsx")
@login_required
def export() -> Response:
    """Every account (no password) as the import reads them: the file to edit and import."""
    permissions.ensure(permissions.may_administer_users, current_user)
    return send_file(
        io.BytesIO(user_sheet.export(db.session)),
        mimetype=MIMETYPES[".xlsx"],
        as_attachment=True,
        download_name="用户表.xlsx",
    )


@bp.route("/users/import", methods=["GET", "POST"])
@login_required
def import_users() -> Page:
    """Accounts from xlsx (the file ``/users.xlsx`` gives): preview, then import; the new
    accounts' one-time passwords shown once."""
    permissions.ensure(permissions.may_administer_users, current_user)
    return import_page(
        "users",
        "导入用户",
        lambda data: user_sheet.import_users(db.session, data, current_user),
        lambda done: f"已导入：{done.summary}。",
        url_for("accounts.users"),
        url_for("accounts.export"),
        shown=lambda done: _secret(render_template("core/imported_users.html", issued=done.issued)),
    )


# ---- one user ---------------------------------------------------------------------------


@bp.route("/users/<username>", methods=["GET", "POST"])
@login_required
def user(username: str) -> Page:
    account = permissions.user_or_404(current_user, username)
    form, problems, status = FlaskForm(), [], 200
    if form.validate_on_submit():
        changes = UserChanges.from_form(request.form)
        outcome = commit(lambda: accounts.update_user(db.session, account, changes, current_user))
        if (refusal := outcome.refusal) is None:
            flash(
                f"已保存用户“{account.username}”。" if outcome.result else "没有修改。", "success"
            )
            return redirect(url_for("accounts.user", username=account.username))
        problems, status = refusal.problems, refusal.status
        db.session.refresh(account)
    return render_template(
        "core/user.html",
        form=form,
        account=account,
        problems=dict(problems),
        submitted=request.form if problems else {},
        units=accounts.assignable_units(db.session),
        history=display.change_record(db.session, accounts.history(db.session, account)),
    ), status


@bp.post("/users/<username>/disable")
@login_required
def disable(username: str) -> Response:
    account = permissions.user_or_404(current_user, username)
    perform(
        lambda: accounts.disable_user(db.session, account, current_user),
        f"已停用用户“{username}”：其全部登录已退出，API令牌已作废。",
    )
    return redirect(url_for("accounts.user", username=username))


@bp.post("/users/<username>/enable")
@login_required
def enable(username: str) -> Response:
    account = permissions.user_or_404(current_user, username)
    perform(
        lambda: accounts.enable_user(db.session, account, current_user),
        f"已启用用户“{username}”。",
    )
    return redirect(url_for("accounts.user", username=username))


@bp.post("/users/<username>/reset-password")
@login_required
def reset_password(username: str) -> Page:
    account = permissions.user_or_404(current_user, username)
    if not FlaskForm().validate_on_submit():
        flash("表单已失效，请刷新页面后重试。", "error")
        return redirect(url_for("accounts.user", username=username))
    outcome = commit(lambda: accounts.reset_password(db.session, account, current_user))
    if outcome.refusal is not None:
        flash(outcome.refusal.message, "error")
        return redirect(url_for("accounts.user", username=username))
    return _secret(
        render_template(
            "core/one_time_password.html", user=account, password=outcome.result, created=False
        )
    )


# ---- one's own password -------------------------------------------------------------------


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> Page:
    me: User = current_user._get_current_object()
    form, problems, status = FlaskForm(), [], 200
    if form.validate_on_submit():
        address = request.remote_addr
        if throttle.refused(me.username, address):
            abort(429)
        change = PasswordChange.from_form(request.form)
        outcome = commit(lambda: accounts.change_password(db.session, me, change))
        if (refusal := outcome.refusal) is None:
            login_user(me)  # this browser stays in with the new session key; others are out
            flash("密码已修改；其他设备上的登录已退出。", "success")
            return redirect(url_for("home.index"))
        if "old_password" in dict(refusal.problems):
            throttle.failed(me.username, address)  # guessing the old password is a login
        problems, status = refusal.problems, refusal.status
    return render_template("core/password.html", form=form, problems=dict(problems)), status
