"""The one way a page's POST runs a service: CSRF-checked, all or nothing, told in Chinese."""

from collections.abc import Callable
from typing import Any

from flask import flash
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from campaign.db import is_busy
from campaign.errors import Conflict, ValidationFailed
from campaign.extensions import db

STALE = "该记录刚被他人修改（或同时提交），未保存；请刷新查看最新状态后再操作。"
BUSY = "系统正忙（他人的保存尚未完成），本次未保存；请稍后重试。"


def perform(action: Callable[[], Any], success: str | Callable[[Any], str]) -> bool:
    """Run ``action`` for a posted form: commit and flash ``success``, or roll back and flash why.

    A missing or wrong CSRF token never reaches here (CSRFProtect answers 400 first).
    """
    if not FlaskForm().validate_on_submit():
        flash("表单已失效，请刷新页面后重试。", "error")
        return False
    try:
        result = action()
        db.session.commit()
    except (ValidationFailed, Conflict) as e:
        # Conflict: the act was already done (a double submission); its message says so.
        db.session.rollback()
        flash(str(e), "error")
        return False
    except (StaleDataError, IntegrityError):
        # Someone else changed the same record (optimistic lock, or a unique key) meanwhile.
        db.session.rollback()
        flash(STALE, "error")
        return False
    except OperationalError as e:
        # Waited too long for another writer's lock (SQLite's busy timeout, a deadlock).
        db.session.rollback()
        if not is_busy(e):
            raise
        flash(BUSY, "error")
        return False
    flash(success(result) if callable(success) else success, "success")
    return True
