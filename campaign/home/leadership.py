"""The leadership view, read on a phone: the latest 通报, the city against its target, the
units ranked with their trend over the bulletins, and who this period's 通报 names (点名).

The trend and the 点名 come from the bulletins' frozen snapshots (what was published), the
ranking and the city's figures from the ledger as it stands now.
"""

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from campaign import figures
from campaign.core.campaigns import build_deadline
from campaign.core.db import Session
from campaign.core.models import Campaign
from campaign.forecast import services as forecast
from campaign.home.todo import Ranked, ranking
from reports.models import Bulletin

SPARK_WIDTH, SPARK_HEIGHT = 96, 28


@dataclass(frozen=True)
class Named:
    """A unit the latest 通报 names, and why."""

    name: str
    why: str


def bulletins(session: Session, campaign: Campaign) -> list[Bulletin]:
    """The campaign's bulletins, oldest first."""
    return list(
        session.scalars(
            select(Bulletin).where(Bulletin.campaign_id == campaign.id).order_by(Bulletin.number)
        )
    )


def bulletin(session: Session, campaign: Campaign, number: int) -> Bulletin | None:
    """The campaign's 第``number``期, or None."""
    return session.scalar(
        select(Bulletin).where(Bulletin.campaign_id == campaign.id, Bulletin.number == number)
    )


def reading(found: Bulletin) -> dict[str, Any]:
    """What the phone reading of a bulletin shows, from its frozen snapshot (the PDF's data)."""
    data = json.loads(found.snapshot)
    return {"s": data, "named": named_units(data)}


def named_units(snapshot: dict[str, Any]) -> list[Named]:
    """The units a bulletin names (点名), as its 下步工作要求 does: those below the coverage
    target, the worst first, as many as the campaign names; then those in the last three places
    for several bulletins in a row. A unit named for both is listed once, with both reasons."""
    units = snapshot.get("units", [])
    limit = snapshot.get("campaign", {}).get("named_units", 3)
    target = snapshot.get("campaign", {}).get("target_party_org_coverage", "")
    behind = sorted((u for u in units if u.get("reaches") is False), key=lambda u: -u["rank"])
    reasons: dict[str, list[str]] = {}
    for u in behind[:limit]:
        said = f"党组织覆盖率{_percent(u['party_org_coverage'])}，未达到{_target(target)}%"
        reasons.setdefault(u["name"], []).append(said)
    for u in sorted(units, key=lambda u: -u["rank"]):
        if u.get("bottom_streak", 0) >= 2:
            reasons.setdefault(u["name"], []).append(f"连续{u['bottom_streak']}期排名后三位")
    return [Named(name, "；".join(why)) for name, why in reasons.items()]


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _target(value: str) -> str:
    return f"{Decimal(value).normalize():f}" if value else ""


def sparkline(values: list[float | None], target: float) -> dict[str, Any] | None:
    """An inline SVG's points for a series of rates (0..1), with the target as a line; None
    with fewer than two points. The scale spans the series and the target, so a small
    change is still visible."""
    points = [v for v in values if v is not None]
    if len(points) < 2:
        return None
    low, high = min(points + [target]), max(points + [target])
    span = (high - low) or 0.01
    pad = 3

    def y(v: float) -> float:
        return round(pad + (high - v) / span * (SPARK_HEIGHT - 2 * pad), 1)

    step = (SPARK_WIDTH - 2 * pad) / (len(values) - 1)
    xy = [(round(pad + i * step, 1), y(v)) for i, v in enumerate(values) if v is not None]
    return {
        "width": SPARK_WIDTH,
        "height": SPARK_HEIGHT,
        "points": " ".join(f"{a},{b}" for a, b in xy),
        "last": xy[-1],
        "target_y": y(target),
        "rising": points[-1] >= points[0],
    }


def view(session: Session, campaign: Campaign, today: date) -> dict[str, Any]:
    """Everything the leadership page shows."""
    published = bulletins(session, campaign)
    snapshots = [json.loads(b.snapshot) for b in published]
    latest = published[-1] if published else None
    last_snapshot = snapshots[-1] if snapshots else None
    ranked: list[Ranked] = ranking(session, campaign)
    previous = {u["code"]: u.get("rank") for u in last_snapshot["units"]} if last_snapshot else {}
    target = Decimal(campaign.target_party_org_coverage)
    for r in ranked:
        r.previous_rank = previous.get(r.unit.code)
        series: list[float | None] = [
            next((u["party_org_coverage"] for u in s["units"] if u["code"] == r.unit.code), None)
            for s in snapshots
        ]
        r.trend = [*series, r.coverage]  # a None is a gap in the line
    total = figures.total_of((r.unit, r.figures) for r in ranked)
    deadline = build_deadline(campaign)
    # The kept forecast (computed by the scheduler and after closures, not for this view).
    projected = forecast.stored(session, campaign, [(r.unit, r.figures) for r in ranked])
    return {
        "latest": latest,
        "total": total,
        "gap": total.gap_to(target),
        "reaches": figures.reaches(total.counts.with_party_org, total.counts.base, target),
        "deadline": deadline,
        "days_left": (deadline - today).days,
        "ranked": ranked,
        "sparks": {r.unit.id: sparkline(r.trend, float(target) / 100) for r in ranked},
        "signals": {r.unit.id: r.signal(target) for r in ranked},
        "named": named_units(last_snapshot) if last_snapshot else [],
        "bulletin_count": len(published),
        "forecast": projected if projected.days_left > 0 else None,
    }
