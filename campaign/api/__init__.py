"""/api/v1: JSON over the same services and permissions as the pages."""

from flask import Flask, g, request
from flask_smorest import abort

from campaign.accounts.services import user_for_token
from campaign.extensions import api, csrf, db


def authenticate_bearer() -> None:
    """Every API request carries ``Authorization: Bearer <token>`` (session cookies are ignored)."""
    if request.endpoint and request.endpoint.startswith("api-docs."):
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = user_for_token(db.session, token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        abort(401, message="缺少或无效的访问令牌（Authorization: Bearer …）")
    g.api_user = user


def register_api(app: Flask) -> None:
    """Mount the API blueprints and the OpenAPI document at /api/v1/openapi.json."""
    from campaign.api.views import blp

    api.init_app(app)
    blp.before_request(authenticate_bearer)
    csrf.exempt(blp)  # bearer tokens, not cookies: no cross-site request can carry one
    api.register_blueprint(blp)
