"""/api/v1: JSON over the same services and permissions as the pages."""

from flask import Flask

from campaign.core.extensions import api, csrf


def register_api(app: Flask) -> None:
    """Mount the API blueprint and the OpenAPI document at /api/v1/openapi.json."""
    from campaign.api.views import blp

    api.init_app(app)
    csrf.exempt(blp)  # bearer tokens, not cookies: no cross-site request can carry one
    api.register_blueprint(blp)
