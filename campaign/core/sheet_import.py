"""An xlsx import on a page, the same for units and users: the file is checked whole and
previewed first (nothing kept), held while the user reads the preview, and imported, all or
nothing, only when he confirms it. Every problem names its row and column, in Chinese."""

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from flask import current_app, flash, redirect, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from campaign.core import storage
from campaign.core.commit import commit, preview

Page = str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]


class Outcome(Protocol):
    """What an import did (or would do): a line for each row it changes, and a summary."""

    def lines(self) -> list[str]: ...

    @property
    def summary(self) -> str: ...


Result = TypeVar("Result", bound=Outcome)


def _owner(what: str) -> str:
    return f"{what}-import-{current_user.id}"


def import_page(
    what: str,
    title: str,
    run: Callable[[bytes], Result],
    done: Callable[[Result], str],
    back: str,
    template_url: str,
    shown: Callable[[Result], Page] | None = None,
) -> Page:
    """GET: the upload form. POST a file: its preview, or its problems (422), nothing kept.
    POST ``token`` (the confirmation): the held file imported whole, or refused whole; then
    back to ``back`` with ``done``'s message, or the page ``shown`` gives (what must be
    shown once, as one-time passwords)."""
    form = FlaskForm()
    root = Path(current_app.config["STORAGE_PATH"])
    context = {"form": form, "title": title, "back": back, "template_url": template_url}
    if request.method == "GET" or not form.validate_on_submit():
        if request.method == "POST":
            flash("表单已失效，请刷新页面后重试。", "error")
        return render_template("core/sheet_import.html", **context)
    token = request.form.get("token", "")
    if token:
        found = storage.held(root, _owner(what), token)
        if found is None:
            flash("预览已过期或已导入，请重新上传文件。", "error")
            return render_template("core/sheet_import.html", **context), 409
        name, data = found
        outcome = commit(lambda: run(data))
        if outcome.refusal is None:
            storage.release(root, _owner(what), token)
            assert outcome.result is not None
            flash(done(outcome.result), "success")
            return shown(outcome.result) if shown else redirect(back)
        return render_template(
            "core/sheet_import.html", **context, filename=name, problems=outcome.refusal.problems
        ), outcome.refusal.status
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        problems = [("file", "请选择要导入的xlsx文件")]
        return render_template("core/sheet_import.html", **context, problems=problems), 422
    data = upload.read()
    name = Path(upload.filename).name
    dry = preview(lambda: run(data))
    if dry.refusal is not None:
        return render_template(
            "core/sheet_import.html", **context, filename=name, problems=dry.refusal.problems
        ), dry.refusal.status
    assert dry.result is not None
    held = storage.hold(root, _owner(what), name, data)
    return render_template(
        "core/sheet_import.html", **context, filename=name, outcome=dry.result, token=held
    )
