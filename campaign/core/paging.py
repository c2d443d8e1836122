"""Paginated lists: page numbers from requests, one bound for every list, pages and API
alike, and one page of a query (Flask-SQLAlchemy's pagination).

A page number is multiplied into an OFFSET; 2**63 - 1 overflows the database's integers
(a 500) and no list of ours has 100,000 pages.
"""

from typing import Any

from flask import abort, request
from flask_sqlalchemy.pagination import Pagination, SelectPagination
from sqlalchemy import Select

from campaign.core.db import Session

MAX_PAGE = 100_000
PAGE_RANGE = f"应在1到{MAX_PAGE}之间"  # said of the field 「页码」


def page_arg(name: str = "page", strict: bool = False) -> int:
    """The page number a page's query string asks for, within 1..MAX_PAGE: the nearest one, or
    with ``strict`` a 404 (as ``db.paginate`` answers a page past the last)."""
    page = request.args.get(name, 1, type=int)
    if strict and not 1 <= page <= MAX_PAGE:
        abort(404)
    return min(max(1, page), MAX_PAGE)


def page_of(
    session: Session, stmt: Select[Any], page: int, per_page: int, *, count: bool = True
) -> Pagination:
    """Page ``page`` of ``stmt`` (``per_page`` rows, in its order) in ``session``, with the
    total unless ``count`` is False; a page past the last is empty (the caller chooses whether
    that is a 404, as ``db.paginate`` does by default)."""
    return SelectPagination(
        select=stmt,
        session=session,
        page=page,
        per_page=per_page,
        max_per_page=None,
        error_out=False,
        count=count,
    )
