"""/api/v1 bulletins: list, metadata with the snapshot, the PDF, and producing one."""

from typing import Any

from flask import Response, current_app, g
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields
from sqlalchemy import select

from campaign.core import permissions
from campaign.core.api import blueprint, commit
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.storage import send_stored
from reports import render, services
from reports.models import Bulletin

blp = blueprint("bulletins_api", "通报")


class BulletinSchema(Schema):
    number = fields.Int()
    title = fields.Str()
    due_on = fields.Date()
    cutoff_at = fields.DateTime()
    created_at = fields.DateTime()
    trigger = fields.Str()
    pdf_pages = fields.Int()
    pdf_sha256 = fields.Str()
    snapshot_sha256 = fields.Str()
    xlsx_sha256 = fields.Str()
    status = fields.Str(metadata={"description": "draft（待签发）或 published（已发布）"})
    document_number = fields.Str(metadata={"description": "发文字号，如“武组专〔2026〕1号”"})
    signed_at = fields.DateTime(allow_none=True)


class GenerateSchema(Schema):
    due_on = fields.Date(required=True)


def _bulletin(campaign_id: int, number: int, detail: bool = False) -> Bulletin:
    campaign = permissions.campaign_or_404(g.api_user, campaign_id)
    if detail and not permissions.sees_city(g.api_user):
        abort(404)
    bulletin = db.session.scalar(
        select(Bulletin).where(Bulletin.campaign_id == campaign.id, Bulletin.number == number)
    ) or abort(404)
    if bulletin.is_draft and not services.sees_drafts(g.api_user):
        abort(404)  # a draft is for those who review and sign it
    return bulletin


@blp.route("/campaigns/<int:campaign_id>/bulletins")
class Bulletins(MethodView):
    @blp.response(200, BulletinSchema(many=True))
    def get(self, campaign_id: int) -> list[Bulletin]:
        """Every bulletin of the campaign, newest first (drafts for those who review and sign)."""
        bulletins = services.archive(
            db.session, permissions.campaign_or_404(g.api_user, campaign_id)
        )
        if services.sees_drafts(g.api_user):
            return bulletins
        return [b for b in bulletins if not b.is_draft]

    @blp.arguments(GenerateSchema)
    @blp.response(201, BulletinSchema)
    def post(self, body: dict[str, Any], campaign_id: int) -> Bulletin:
        """Produce the bulletin of a report day whose cut-off has passed (coordinators)."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        permissions.ensure(permissions.may_edit_campaign, g.api_user)
        settings = services.settings_from(current_app.config)

        def produce() -> Bulletin:
            try:
                return services.generate(
                    db.session, campaign, body["due_on"], settings, "api", g.api_user
                )
            except (services.Busy, render.RenderRefused) as e:
                raise ValidationFailed([("due_on", str(e))]) from e

        return commit(produce, status=409)


@blp.route("/campaigns/<int:campaign_id>/bulletins/<int:number>")
class BulletinDetail(MethodView):
    @blp.response(200, BulletinSchema)
    def get(self, campaign_id: int, number: int) -> Bulletin:
        """One bulletin's record."""
        return _bulletin(campaign_id, number)


@blp.route("/campaigns/<int:campaign_id>/bulletins/<int:number>/snapshot")
class BulletinSnapshot(MethodView):
    def get(self, campaign_id: int, number: int) -> Response:
        """The data snapshot the bulletin was rendered from (city-wide users)."""
        b = _bulletin(campaign_id, number, detail=True)
        return current_app.response_class(b.snapshot, mimetype="application/json")


@blp.route("/campaigns/<int:campaign_id>/bulletins/<int:number>/pdf")
class BulletinPdf(MethodView):
    def get(self, campaign_id: int, number: int) -> Response:
        """The archived PDF."""
        b = _bulletin(campaign_id, number)
        return send_stored(b.pdf_path, f"bulletin-{number}.pdf", inline=True)


@blp.route("/campaigns/<int:campaign_id>/bulletins/<int:number>/sign")
class BulletinSign(MethodView):
    @blp.response(200, BulletinSchema)
    def post(self, campaign_id: int, number: int) -> Bulletin:
        """签发 a draft (leadership): numbered, archived and sent to every 主送 unit; a
        bulletin already signed answers 409."""
        b = _bulletin(campaign_id, number)
        permissions.ensure(services.may_sign, g.api_user)
        settings = services.settings_from(current_app.config)
        return commit(lambda: services.sign(db.session, b, g.api_user, settings))
