"""Login and logout."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from campaign.accounts.services import authenticate, end_sessions
from campaign.extensions import db, limiter

bp = Blueprint("accounts", __name__)


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名")])
    password = PasswordField("密码", validators=[DataRequired("请输入密码")])


def _login_key() -> str:
    # Per address and username, so one person's typos do not lock out a whole office.
    return f"{request.remote_addr}:{request.form.get('username', '').strip().lower()}"


def _local_target(target: str) -> str:
    """``target`` if it is a path on this site, else the overview.

    Browsers drop tabs and newlines and read backslashes as slashes, so
    "/\t/evil.example" is a link to another site: judge the URL as they will.
    """
    cleaned = "".join(ch for ch in target if ch >= " ").replace("\\", "/")
    parts = urlsplit(cleaned)
    if not cleaned.startswith("/") or cleaned.startswith("//") or parts.scheme or parts.netloc:
        return url_for("timeline.overview")
    return cleaned


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURE_LIMIT"],
    key_func=_login_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 302,
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("timeline.overview"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = authenticate(db.session, form.username.data.strip(), form.password.data)
        if user:
            login_user(user)
            return redirect(_local_target(request.args.get("next", "")))
        flash("用户名或密码错误。", "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    # Ends the session on the server too: a copy of the cookie is refused from now on.
    end_sessions(db.session, current_user)
    db.session.commit()
    logout_user()
    flash("已退出登录。", "info")
    return redirect(url_for("accounts.login"))
