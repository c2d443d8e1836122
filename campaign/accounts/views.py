"""Login and logout."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from campaign.accounts import throttle
from campaign.accounts.services import authenticate, end_sessions
from campaign.extensions import db

bp = Blueprint("accounts", __name__)


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
        return url_for("timeline.overview")
    return cleaned


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("timeline.overview"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        username, address = form.username.data.strip(), request.remote_addr
        if throttle.refused(username, address):
            abort(429)
        user = authenticate(db.session, username, form.password.data)
        if user:
            throttle.succeeded(username, address)
            login_user(user)
            return redirect(_local_target(request.args.get("next", "")))
        throttle.failed(username, address)
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
