"""Paths of the app's pages for what is written outside a request (notification messages, the
scheduler's reminders): built from the URL map as ``url_for`` builds them, so a link follows
its route."""

from typing import Any

from flask import current_app


def path_for(endpoint: str, **values: Any) -> str:
    """The path of ``endpoint`` with ``values`` (those the route does not take become the query
    string), without host or script root: a message puts BASE_URL before it. Needs an app
    context, not a request."""
    return current_app.url_map.bind("").build(endpoint, values)
