"""The one way a page's POST runs a service: CSRF-checked, all or nothing, told in Chinese."""

from collections.abc import Callable
from typing import Any

from flask import flash
from flask_wtf import FlaskForm

from campaign.core.commit import commit


def perform(action: Callable[[], Any], success: str | Callable[[Any], str]) -> bool:
    """Run ``action`` for a posted form: commit and flash ``success``, or roll back and flash why.

    A missing or wrong CSRF token never reaches here (CSRFProtect answers 400 first).
    """
    if not FlaskForm().validate_on_submit():
        flash("表单已失效，请刷新页面后重试。", "error")
        return False
    outcome = commit(action)
    if outcome.refusal is not None:
        flash(outcome.refusal.message, "error")
        return False
    result = outcome.result
    flash(success(result) if callable(success) else success, "success")
    return True
