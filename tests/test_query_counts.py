"""No page issues a query per row (N+1): the same pages over a small and a five times larger
demo city issue the same number of SQL statements."""

import re
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event, select

from campaign import demo
from campaign.board.models import BoardItem
from campaign.core.extensions import db
from campaign.core.models import Campaign
from tests.conftest import login
from tests.timeutil import at

PAGES = [
    "/campaigns/{c}",
    "/campaigns/{c}/board",
    "/campaigns/{c}/units/jiangan/board",
    "/campaigns/{c}/units/jiangan/board?overdue=1",
    "/campaigns/{c}/items/{item}",
    "/campaigns/{c}/units/jiangan",
    "/campaigns/{c}/timeline",
    "/campaigns/{c}/reports",
    "/campaigns/{c}/bulletins",
    "/campaigns/{c}/exclusions",
    "/notifications",
]


@contextmanager
def counting():
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _demo(size: float) -> Campaign:
    with at(2026, 11, 22, 10):
        campaign = demo.load(db.session, today=date(2026, 11, 22), size=size)
        db.session.commit()
    return campaign


def _query_counts(app, campaign: Campaign) -> dict[str, int]:
    with at(2026, 11, 22, 10):
        item = db.session.scalar(
            select(BoardItem.id).where(BoardItem.campaign_id == campaign.id).limit(1)
        )
        client = app.test_client()
        login(client, "zhuanban", demo.DEMO_PASSWORD)
        counts = {}
        for page in PAGES:
            path = page.format(c=campaign.id, item=item)
            client.get(path)  # warm: caches, the first-request scheduler check
            with counting() as statements:
                response = client.get(path)
            assert response.status_code == 200, path
            counts[re.sub(r"\d+", "N", path)] = len(statements)
        return counts


@pytest.fixture
def fresh_db(app):
    def reset():
        db.session.remove()
        db.drop_all()
        db.create_all()

    return reset


def test_pages_issue_as_many_queries_for_a_large_city_as_for_a_small_one(app, demo_city, fresh_db):
    small = _query_counts(app, demo_city)  # the demo at 0.02 (tests/conftest.py)
    fresh_db()
    large = _query_counts(app, _demo(0.1))
    assert large == small
