"""Gongjian: the web application for a city's 百日攻坚 campaign.

flask --app app run            serve (the scheduler starts only with GONGJIAN_SCHEDULER=1)
flask --app app db upgrade     create or migrate the database
"""

from pathlib import Path

from dotenv import load_dotenv
from flask import Flask, abort, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from campaign import (
    models,  # noqa: F401  (every table and tally registered before use)
    subscribers,
    tally,
)
from campaign.core import api_errors as errors
from campaign.core import clock, config, statistics, storage, text
from campaign.core.db import render_migration_item
from campaign.core.extensions import api, csrf, db, limiter, login_manager, migrate
from notifications import models as notification_models  # noqa: F401
from notifications import urging as urge_models  # noqa: F401
from reports import models as report_models  # noqa: F401

ERROR_PAGES = {
    400: "errors/400.html",
    403: "errors/403.html",
    404: "errors/404.html",
    413: "errors/413.html",
    429: "errors/429.html",
}


def create_app(overrides: dict | None = None) -> Flask:
    """The application, configured from defaults, the environment and ``overrides``."""
    load_dotenv()
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(config.DEFAULTS)
    app.config.update(config.from_environment(Path(app.instance_path)))
    app.config.update(overrides or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.instance_secret_key(Path(app.instance_path))
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = config.engine_options(app.config)

    if clock.is_moved():
        app.logger.warning("%s moves the clock to %s", clock.TEST_CLOCK_ENV, clock.now())
    assert isinstance(app.json, DefaultJSONProvider)  # Flask's own, not replaced
    app.json.ensure_ascii = False  # Chinese messages readable in API responses
    db.init_app(app)
    tally.track(db.session)  # the figures' and the board's tallies recount what commits change
    storage.track(db.session)  # a file stored by a transaction that does not commit is removed
    statistics.track(db.session)  # the planner's statistics refreshed after a bulk write
    text.guard(db.session)  # every text a user typed is checked before it is written
    migrate.init_app(
        app,
        db,
        directory=str(Path(__file__).parent / "migrations"),
        render_as_batch=True,  # SQLite alters tables by copying them
        render_item=render_migration_item,
        compare_type=True,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    _init_login(app)
    _init_security(app)
    from notifications.events import init_app as init_notifications

    init_notifications(app)
    subscribers.connect()  # what each area does when another acts (campaign/subscribers.py)
    _register_blueprints(app)
    _register_cli(app)
    _register_templates(app)
    _register_error_pages(app)
    if app.config["SCHEDULER_ENABLED"]:
        from campaign.scheduler import start_in_web_process

        # Started by the first request, so CLI commands (db upgrade, demo load) never run jobs.
        app.before_request(lambda: start_in_web_process(app))
    return app


def _init_login(app: Flask) -> None:
    from campaign.core import accounts

    accounts.HASH_METHOD = app.config["PASSWORD_HASH_METHOD"]
    login_manager.init_app(app)
    login_manager.login_view = "core.login"
    # Flask-Login's "basic" protection only marks a session not fresh (nothing here asks: no
    # fresh_login_required, no remember-me cookie, no permanent session, under which "basic"
    # would act as "strong"). It marks it by writing the cookie again, for an anonymous
    # visitor on his first request after the login form gave him its CSRF token. A request
    # sent beside the login form and answered after the login (the tab's icon, a 404 page)
    # then overwrote the logged-in cookie. Now no answer to an anonymous request writes it
    # unless his session changed. A session's security here is its server-side key
    # (accounts.user_for_session), ended at logout, password change or reset, and disabling.
    # A SESSION_PROTECTION config key would override this; none is set.
    login_manager.session_protection = None
    # No message through the session either: the login page says "请先登录。" itself when it
    # was sent a page to return to (core.login), so sending a visitor there writes no cookie.
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(session_id: str):
        return accounts.user_for_session(db.session, session_id)


# Scripts and stylesheets from this site only: no inline script, no eval, no <style>
# element. Style attributes stay allowed (the timeline's bars are placed by them); browsers
# without CSP 3's style-src-elem fall back to style-src and allow <style> as well.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "style-src-elem 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers without CSP 2
    "Referrer-Policy": "same-origin",
}


NUL_REFUSED = "请求中含有空字符（U+0000），请删除后重试"


def _init_security(app: Flask) -> None:
    """The trusted proxy (if any), and the browser-side defences on every response."""
    if hops := app.config["PROXY_FIX"]:
        # X-Forwarded-Host is not trusted: nginx passes the Host header itself.
        # Flask's documented way to wrap the WSGI app; mypy refuses assigning to a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    headers = dict(SECURITY_HEADERS)
    if app.config["SESSION_COOKIE_SECURE"]:
        headers["Strict-Transport-Security"] = "max-age=31536000"

    @app.after_request
    def security_headers(response):
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    @app.before_request
    def refuse_nul():
        # PostgreSQL cannot hold U+0000 in text: a search for it would be a database error.
        # Text that is stored is cleaned by campaign.text; this covers what is only compared.
        fields = [*request.args.lists(), *(request.form.lists() if request.form else [])]
        found = any("\x00" in value for _, values in fields for value in values)
        if not found and request.is_json:
            body = request.get_data(cache=True)
            found = b"\\u0000" in body or b"\x00" in body
        if found:
            abort(400, description=NUL_REFUSED)


def _register_blueprints(app: Flask) -> None:
    from campaign.board.views import bp as board_bp
    from campaign.core.account_views import bp as accounts_bp
    from campaign.core.unit_views import bp as units_bp
    from campaign.core.views import bp as core_bp
    from campaign.half_monthly.views import bp as reporting_bp
    from campaign.home.views import bp as home_bp
    from campaign.ledger.views import bp as ledger_bp
    from campaign.timeline.views import bp as timeline_bp
    from notifications.views import bp as notifications_bp
    from reports.views import bp as bulletins_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(units_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(timeline_bp)
    app.register_blueprint(ledger_bp)
    app.register_blueprint(reporting_bp)
    app.register_blueprint(board_bp)
    app.register_blueprint(bulletins_bp)
    app.register_blueprint(notifications_bp)
    _register_role_homes(app)
    from campaign.quality.views import bp as quality_bp

    app.register_blueprint(quality_bp)
    _register_api(app)


def _register_role_homes(app: Flask) -> None:
    """What the role homes add: 协调事项 (board) and 催办 (notifications)."""
    from campaign.board.coordination_views import bp as coordination_bp
    from notifications.urge_views import bp as urging_bp

    app.register_blueprint(coordination_bp)
    app.register_blueprint(urging_bp)


def _register_api(app: Flask) -> None:
    """Each area's part of /api/v1, and the OpenAPI document at /api/v1/openapi.json."""
    from campaign.board.api import blp as board_api
    from campaign.core.api import blp as core_api
    from campaign.forecast.api import blp as forecast_api
    from campaign.half_monthly.api import blp as half_monthly_api
    from campaign.ledger.api import blp as ledger_api
    from campaign.quality.api import blp as quality_api
    from campaign.timeline.api import blp as timeline_api
    from reports.api import blp as bulletins_api

    api.init_app(app)
    for blueprint in (
        core_api,
        ledger_api,
        timeline_api,
        half_monthly_api,
        board_api,
        bulletins_api,
        forecast_api,
        quality_api,
    ):
        csrf.exempt(blueprint)  # bearer tokens, not cookies: no cross-site request can carry one
        api.register_blueprint(blueprint)


def _register_cli(app: Flask) -> None:
    from campaign.audit_cli import audit_cli
    from campaign.backup import backup_cli
    from campaign.core.cli import campaign_cli, init_command, units_cli, users_cli
    from campaign.demo import demo_cli
    from campaign.forecast.cli import forecast_cli
    from campaign.half_monthly.cli import reports_cli
    from campaign.ledger.cli import ledger_cli
    from campaign.scheduler import scheduler_cli
    from campaign.timeline.cli import tasks_cli
    from reports.cli import bulletin_cli

    app.cli.add_command(init_command)
    app.cli.add_command(campaign_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(units_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(ledger_cli)
    app.cli.add_command(reports_cli)
    app.cli.add_command(tasks_cli)
    app.cli.add_command(bulletin_cli)
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(forecast_cli)
    from campaign.quality.cli import quality_cli

    app.cli.add_command(quality_cli)
    from campaign.rules_cli import rules_cli

    app.cli.add_command(rules_cli)


def _register_templates(app: Flask) -> None:
    from campaign import display

    app.jinja_env.filters.update(display.FILTERS)
    app.jinja_env.globals.update(display.GLOBALS)


def _api_error(error: HTTPException):
    """flask-smorest's JSON error, with a Chinese message whatever the error was."""
    payload, code, headers = api.handle_http_exception(error)
    return errors.payload(error, payload), code, headers


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # The API answers JSON; pages answer a Chinese page.
        if request.path.startswith("/api/"):
            return _api_error(error)
        if isinstance(error, CSRFError):
            return render_template("errors/csrf.html"), 400
        template = getattr(error, "template", None) or (
            ERROR_PAGES.get(error.code) if error.code is not None else None
        )
        if template is None:
            return error
        # ``permissions.ensure`` says why in Chinese; werkzeug's English defaults are not shown.
        reason = error.description if errors.is_ours(error.description or "") else ""
        return render_template(template, error=error, reason=reason), error.code
