"""Where each unit will stand at the build deadline, at its own recent pace.

A simple model a 专班 can check by hand, per unit and per figure (党组织覆盖率, 应建尽建率):

- the figure today is ``figures``' own (the same counts the overview shows);
- the unit's weekly pace is the Party orgs it set up in each of the last ``RECENT_WEEKS``
  whole weeks (by the ledger's founding dates, which a verified closure writes), counted as
  the figure counts them (``figures.founded_by_day``); fewer weeks early in the build phase;
- the gain to the deadline is the mean weekly pace times the weeks left, rounded, and never
  more than is still open: the organizations of the base without a Party org (覆盖率), the
  open items of 应单独组建/应建党组织 (应建尽建率);
- the band is the same with the pace less and plus one standard deviation of the weeks; its
  high end is at least the open items planned to be done by the deadline (the board's
  planned dates, ``figures.planned_by``): what the unit's own plans say it will add;
- a unit is at risk when the projected value is below the campaign's target.

The city is the sum of its units (each bounded by its own open items). No Flask here: the
bulletin's snapshot calls it too.

The pages (the overview, the wall chart, the leadership view) read the latest forecast kept
per campaign (``ForecastRun``, ``stored``), not a new one per view: the scheduler computes it
again when something was recorded since or the day changed (``is_stale``, ``refresh``), and a
verified or revoked closure, an approved ledger, new settings refresh the units they touch in
their own transaction (``refresh_on_*``, wired in campaign/subscribers.py).
"""

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from campaign import figures
from campaign.audit import AuditEntry
from campaign.core import campaigns, clock, events
from campaign.core.db import Session
from campaign.core.models import Campaign, Unit
from campaign.display import percent, short_date
from campaign.forecast.models import ForecastRun
from campaign.targets import load as load_targets

RECENT_WEEKS = 4
# figure -> (label, the campaign's target setting)
FIGURES = {
    "party_org_coverage": ("党组织覆盖率", "target_party_org_coverage"),
    "required_coverage": ("应建尽建率", "target_required_coverage"),
}


def _rounded(x: float) -> int:
    """Half up (a gain of 2.5 Party orgs is 3), robust to float noise."""
    return math.floor(x + 0.5 + 1e-9)


@dataclass(frozen=True)
class Projection:
    """One figure of one unit (or of the city) at the deadline."""

    part: int  # what the figure counts today (Party orgs; organizations meeting 应建尽建)
    whole: int  # its denominator (党建基数; organizations required to have a Party org)
    gain: int  # expected to be added by the deadline
    low_gain: int
    high_gain: int
    room: int  # the most that can still be added (open organizations or items)
    target: Decimal  # in percent
    pace: float = 0.0  # mean Party orgs per week
    spread: float = 0.0  # standard deviation of the weekly counts
    weekly: tuple[int, ...] = ()  # the recent weeks, oldest first
    bounded: bool = False  # the open items, not the pace, limit the gain
    planned: int = 0  # open items planned to be done by the deadline

    @classmethod
    def of(
        cls,
        part: int,
        whole: int,
        weekly: list[int],
        room: int,
        days_left: int,
        target: Decimal,
        planned: int = 0,
    ) -> "Projection":
        """The projection from the recent ``weekly`` counts with ``days_left`` to go; the
        high end at least the ``planned`` open items (due by the deadline)."""
        pace = sum(weekly) / len(weekly) if weekly else 0.0
        # The population standard deviation (statistics.pstdev, in floats: it is shown, not summed).
        spread = math.sqrt(sum((n - pace) ** 2 for n in weekly) / len(weekly)) if weekly else 0.0
        weeks = max(0, days_left) / 7
        room = max(0, room)

        def gained(per_week: float) -> int:
            return min(room, _rounded(max(0.0, per_week) * weeks))

        return cls(
            part=part,
            whole=whole,
            gain=gained(pace),
            low_gain=gained(pace - spread),
            high_gain=max(gained(pace + spread), min(room, max(0, planned))),
            room=room,
            target=Decimal(target),
            pace=pace,
            spread=spread,
            weekly=tuple(weekly),
            bounded=_rounded(max(0.0, pace) * weeks) > room,
            planned=max(0, planned),
        )

    def __add__(self, other: "Projection") -> "Projection":
        return Projection(
            part=self.part + other.part,
            whole=self.whole + other.whole,
            gain=self.gain + other.gain,
            low_gain=self.low_gain + other.low_gain,
            high_gain=self.high_gain + other.high_gain,
            room=self.room + other.room,
            target=self.target,
            pace=self.pace + other.pace,
            spread=math.hypot(self.spread, other.spread),
            bounded=self.bounded or other.bounded,
            planned=self.planned + other.planned,
        )

    def _rate(self, part: int) -> float | None:
        return part / self.whole if self.whole else None

    @property
    def today(self) -> float | None:
        return self._rate(self.part)

    @property
    def projected(self) -> float | None:
        return self._rate(self.part + self.gain)

    @property
    def low(self) -> float | None:
        return self._rate(self.part + self.low_gain)

    @property
    def high(self) -> float | None:
        return self._rate(self.part + self.high_gain)

    @property
    def at_risk(self) -> bool:
        """Projected below the target (exact integers, as the figures compare)."""
        return figures.reaches(self.part + self.gain, self.whole, self.target) is False

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today,
            "projected": self.projected,
            "low": self.low,
            "high": self.high,
            "target": float(self.target),
            "at_risk": self.at_risk,
            "part": self.part,
            "whole": self.whole,
            "gain": self.gain,
            "room": self.room,
            "pace": round(self.pace, 2),
            "bounded": self.bounded,
            "planned": self.planned,
        }


@dataclass(frozen=True)
class UnitForecast:
    unit: Unit
    figures: dict[str, Projection]

    @property
    def at_risk(self) -> bool:
        return any(p.at_risk for p in self.figures.values())

    @property
    def coverage(self) -> Projection:
        return self.figures["party_org_coverage"]


@dataclass(frozen=True)
class Forecast:
    """Every unit's projection (display order) and the city's, as of ``as_of``."""

    as_of: date
    deadline: date
    weeks: int  # how many recent weeks the pace is taken over
    units: list[UnitForecast]
    city: dict[str, Projection]
    by_unit_id: dict[int, UnitForecast] = field(default_factory=dict)
    computed_at: datetime | None = None  # when it was computed (a kept forecast: ``stored``)

    @property
    def days_left(self) -> int:
        return max(0, (self.deadline - self.as_of).days)

    @property
    def method(self) -> str:
        """How it was computed, in one sentence for the page."""
        return method_sentence(self.weeks, self.deadline)

    def at_risk(self, figure: str = "party_org_coverage") -> list[UnitForecast]:
        """The units projected below target on ``figure``, the furthest below first."""
        risky = [u for u in self.units if u.figures[figure].at_risk]
        return sorted(risky, key=lambda u: (u.figures[figure].projected or 0.0, u.unit.position))

    def sentence(self, projection: Projection) -> str:
        """ "按当前进度，预计11月20日达到 X%（Y%–Z%）", and "，低于目标" when at risk."""
        return risk_sentence(projection.as_dict(), self.deadline)


def method_sentence(weeks: int, deadline: date) -> str:
    return (
        f"预测方法：取最近{weeks}周每周新建党组织数（按党组织成立日期，含核验销号写入的）的平均值，"
        f"乘以距{short_date(deadline)}的周数，且不超过尚未建立党组织的组织数"
        "（应建尽建率不超过应建未建的事项数）；区间为每周新建数的平均值减、加一个标准差，"
        "上限不低于计划在截止日前完成的未销号事项数。"
    )


def risk_sentence(projection: dict[str, Any], deadline: date) -> str:
    """The sentence for one projection as ``Projection.as_dict`` gives it (pages, bulletin)."""
    text = (
        f"按当前进度，预计{short_date(deadline)}达到 {percent(projection['projected'])}"
        f"（{percent(projection['low'])}–{percent(projection['high'])}）"
    )
    return text + ("，低于目标" if projection["at_risk"] else "")


def _targets(campaign: Campaign) -> dict[str, Decimal]:
    return {name: Decimal(getattr(campaign, setting)) for name, (_, setting) in FIGURES.items()}


def _build_start(campaign: Campaign) -> date:
    return next((p.starts_on for p in campaign.phases if p.code == "build"), campaign.starts_on)


def recent_weeks(campaign: Campaign, as_of: date) -> int:
    """Whole weeks of the build phase before ``as_of``, at most ``RECENT_WEEKS``, at least 1."""
    return min(RECENT_WEEKS, max(1, (as_of - _build_start(campaign)).days // 7))


def forecast(
    session: Session,
    campaign: Campaign,
    unit_ids: list[int] | None = None,
    as_of: date | None = None,
    rows: list[tuple[Unit, figures.Figures]] | None = None,
    until: date | None = None,
) -> Forecast:
    """The forecast of every unit in ``unit_ids`` (None: all) from what was known on ``as_of``
    (default today) to the build deadline (or to ``until``: the backtest's day of comparison).
    ``rows``: ``figures.by_unit`` of the same units as of ``as_of``, when the caller has them
    (a page's today, a bulletin's cut-off)."""
    today = clock.today(campaign.timezone)
    as_of = as_of or today
    if rows is None:
        rows = figures.by_unit(session, campaign, unit_ids, figures.as_of_day(campaign, as_of))
    deadline = until or campaigns.build_deadline(campaign)
    weeks = recent_weeks(campaign, as_of)
    # Per unit and figure, the Party orgs added in each of the recent weeks (0: the last).
    weekly: dict[int, dict[str, list[int]]] = defaultdict(
        lambda: {name: [0] * weeks for name in FIGURES}
    )
    since = as_of - timedelta(days=7 * weeks)
    for unit_id, day, with_org, required_met in figures.founded_by_day(
        session, campaign, since, as_of, unit_ids
    ):
        week = weeks - 1 - (as_of - day).days // 7  # oldest first
        weekly[unit_id]["party_org_coverage"][week] += with_org
        weekly[unit_id]["required_coverage"][week] += required_met
    targets = _targets(campaign)
    goals = load_targets(session, campaign)  # each unit against its own target, where it has one
    days_left = (deadline - as_of).days
    planned = figures.planned_by(session, campaign, as_of, deadline, unit_ids)
    units = []
    for unit, f in rows:
        c = f.counts
        history = weekly[unit.id]
        own = {name: goals.of(name, unit.id).percent for name in FIGURES}
        plans = planned.get(unit.id, (0, 0))
        units.append(
            UnitForecast(
                unit,
                {
                    "party_org_coverage": Projection.of(
                        c.with_party_org,
                        c.base,
                        history["party_org_coverage"],
                        c.base - c.with_party_org,
                        days_left,
                        own["party_org_coverage"],
                        plans[0],
                    ),
                    "required_coverage": Projection.of(
                        c.required_met,
                        c.required,
                        history["required_coverage"],
                        c.required - c.required_met,
                        days_left,
                        own["required_coverage"],
                        plans[1],
                    ),
                },
            )
        )
    city = {name: _sum((u.figures[name] for u in units), targets[name]) for name in FIGURES}
    return Forecast(as_of, deadline, weeks, units, city, {u.unit.id: u for u in units})


def _sum(projections: Iterable[Projection], target: Decimal) -> Projection:
    total = Projection(0, 0, 0, 0, 0, 0, target)
    for p in projections:
        total = total + p
    return total


# ---- the kept forecast ---------------------------------------------------------------------


def _dump(p: Projection) -> dict[str, Any]:
    return {**asdict(p), "target": str(p.target), "weekly": list(p.weekly)}


def _load(d: dict[str, Any]) -> Projection:
    return Projection(**{**d, "target": Decimal(d["target"]), "weekly": tuple(d["weekly"])})


def _dumped(made: Forecast) -> dict[str, dict[str, Any]]:
    return {str(u.unit.id): {name: _dump(p) for name, p in u.figures.items()} for u in made.units}


def _audit_end(session: Session) -> int:
    return session.scalar(select(func.max(AuditEntry.id))) or 0


def refresh(session: Session, campaign: Campaign, unit_ids: list[int] | None = None) -> ForecastRun:
    """Compute the forecast as of today and keep it: every unit's, or only ``unit_ids``'
    (the others kept as they were) when the kept one is of today. Flushed, not committed."""
    today = clock.today(campaign.timezone)
    run = session.get(ForecastRun, campaign.id)
    if run is None or run.as_of != today:
        unit_ids = None  # another day: every unit again
    made = forecast(session, campaign, unit_ids, as_of=today)
    if run is None:
        run = ForecastRun(campaign_id=campaign.id, as_of=today)
        session.add(run)
    units = _dumped(made) if unit_ids is None else {**run.data["units"], **_dumped(made)}
    # A new dict (not changed in place), so the JSON column is written.
    run.data = {"deadline": made.deadline.isoformat(), "weeks": made.weeks, "units": units}
    if unit_ids is None:
        run.as_of = today
        run.computed_at = clock.now(campaign.timezone)
        run.audit_seen = _audit_end(session)
    session.flush()
    return run


def is_stale(session: Session, campaign: Campaign) -> bool:
    """Whether the kept forecast is missing, of another day, or older than something
    recorded since (the scheduler's test, as the data-quality signals')."""
    run = session.get(ForecastRun, campaign.id)
    return (
        run is None
        or run.as_of != clock.today(campaign.timezone)
        or _audit_end(session) > run.audit_seen
    )


def stored(
    session: Session,
    campaign: Campaign,
    rows: list[tuple[Unit, figures.Figures]],
) -> Forecast:
    """The kept forecast of the units of ``rows`` (a page's ``figures.by_unit``, in its order),
    their sum as the city's; computed now (not kept) while none is kept yet."""
    run = session.get(ForecastRun, campaign.id)
    if run is None:
        return forecast(session, campaign, [u.id for u, _ in rows], rows=rows)
    kept = run.data["units"]
    units = [
        UnitForecast(unit, {name: _load(d) for name, d in kept[str(unit.id)].items()})
        for unit, _ in rows
        if str(unit.id) in kept
    ]
    targets = _targets(campaign)
    city = {name: _sum((u.figures[name] for u in units), targets[name]) for name in FIGURES}
    return Forecast(
        run.as_of,
        date.fromisoformat(run.data["deadline"]),
        run.data["weeks"],
        units,
        city,
        {u.unit.id: u for u in units},
        run.computed_at,
    )


def kept_as_of(
    session: Session,
    campaign: Campaign,
    as_of: date,
    rows: list[tuple[Unit, figures.Figures]],
) -> Forecast | None:
    """The kept forecast when it is what ``forecast(as_of=as_of, rows=rows)`` would compute
    now: of that day (today), nothing recorded since it was computed, every unit of ``rows``
    in it. A bulletin made at its cut-off reads it, as it reads the stored signals, instead of
    counting the weeks' Party orgs again; None otherwise (the caller computes)."""
    run = session.get(ForecastRun, campaign.id)
    if run is None or run.as_of != as_of or is_stale(session, campaign):
        return None
    if any(str(unit.id) not in run.data["units"] for unit, _ in rows):
        return None
    return stored(session, campaign, rows)


def refresh_on_closure(
    session: Session, event: events.ClosureVerified | events.ClosureRevoked
) -> None:
    """A closure verified or revoked changes its unit's figures: its forecast again."""
    item = event.closure.item
    refresh(session, session.get_one(Campaign, item.campaign_id), [item.unit_id])


def refresh_on_approval(session: Session, event: events.LedgerApproved) -> None:
    """An approved ledger is the unit's base (the figures' denominator): its forecast again."""
    ledger = event.ledger
    refresh(session, session.get_one(Campaign, ledger.campaign_id), [ledger.unit_id])


def refresh_on_settings(session: Session, event: events.SettingsChanged) -> None:
    """New settings (targets, thresholds, dates) change every unit's forecast."""
    refresh(session, event.campaign)


# ---- the backtest ------------------------------------------------------------------------


@dataclass
class Backtest:
    """Forecasts made on past report days, against what happened at the deadline (or today)."""

    compared_on: date = date.min
    errors: list[float] = field(default_factory=list)  # in percentage points
    called: int = 0  # at-risk calls
    called_right: int = 0  # of them, below target in the end
    missed: int = 0  # below target in the end
    days: list[tuple[date, int, float]] = field(default_factory=list)  # day, forecasts, MAE
    figures: dict[str, "Backtest"] = field(default_factory=dict)  # the same, per figure

    def add(self, error: float, called: bool, below: bool) -> None:
        self.errors.append(error)
        self.called += called
        self.called_right += called and below
        self.missed += below

    @property
    def mae(self) -> float:
        return statistics.fmean(self.errors) if self.errors else 0.0

    @property
    def precision(self) -> float | None:
        return 100 * self.called_right / self.called if self.called else None

    @property
    def recall(self) -> float | None:
        return 100 * self.called_right / self.missed if self.missed else None

    def line(self) -> str:
        def pct(x: float | None) -> str:
            return "—" if x is None else f"{x:.0f}"

        return (
            f"forecast backtest: MAE {self.mae:.1f} points over {len(self.errors)} forecasts, "
            f"at-risk precision {pct(self.precision)} %, recall {pct(self.recall)} %"
        )


def backtest_days(campaign: Campaign, today: date) -> list[date]:
    """The report days to replay: past, in the build phase, before the deadline."""
    deadline = campaigns.build_deadline(campaign)
    start = _build_start(campaign) + timedelta(days=7)
    return [d for d in campaigns.report_due_days(campaign) if start <= d < min(today, deadline)]


def backtest(
    session: Session,
    campaign: Campaign,
    progress: Callable[[date, int, float], None] | None = None,
) -> Backtest:
    """Replay the campaign: on each past report day, forecast every unit from what was known
    then (Party orgs founded by that day) and compare with the figure at the deadline, or,
    while the deadline is ahead, forecast to today and compare with today's figure.
    ``progress`` hears each day as it is done."""
    today = clock.today(campaign.timezone)
    deadline = campaigns.build_deadline(campaign)
    compared_on = min(deadline, today)
    actual = {
        u.id: f
        for u, f in figures.by_unit(
            session, campaign, as_of=None if compared_on >= today else compared_on
        )
    }
    result = Backtest(compared_on, figures={name: Backtest(compared_on) for name in FIGURES})
    for day in backtest_days(campaign, today):
        made = forecast(session, campaign, as_of=day, until=compared_on)
        errors = []
        for u in made.units:
            for name, p in u.figures.items():
                real = getattr(actual[u.unit.id], name)
                if p.projected is None or real is None:
                    continue
                error = abs(p.projected - real) * 100
                below = figures.reaches(_part(actual[u.unit.id], name), p.whole, p.target) is False
                result.add(error, p.at_risk, below)
                result.figures[name].add(error, p.at_risk, below)
                errors.append(error)
        mae = statistics.fmean(errors) if errors else 0.0
        result.days.append((day, len(errors), mae))
        if progress:
            progress(day, len(errors), mae)
    return result


def _part(f: figures.Figures, name: str) -> int:
    return f.counts.with_party_org if name == "party_org_coverage" else f.counts.required_met
