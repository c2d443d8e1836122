"""Time the overview, the wall chart and a large unit board at 50,000 organizations.

    .venv/bin/python bench/board_pages.py [--orgs 50000] [--repeat 20] [--database URL]

Builds a synthetic campaign (deterministic) on the city's units: organizations spread over
17 units and their streets, rules verdicts stored, board items synced. Then it requests
each page through the app (Flask test client, so the time is the server's: routing,
queries, template) and reports median and p95 in milliseconds, next to the bare SQL
aggregate behind the figures.
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, insert, select

from app import create_app
from campaign import figures, rulesets
from campaign.board.models import BoardItem
from campaign.board.services import sync_items
from campaign.core.accounts import create_user
from campaign.core.campaigns import create_from_template
from campaign.core.extensions import db
from campaign.core.models import Unit
from campaign.demo import create_units
from campaign.ledger import creditcode
from campaign.ledger.models import Organization
from campaign.ledger.services import apply_rules


def build(n: int) -> tuple[int, str]:
    rng = random.Random(50_000)
    units = create_units(db.session)
    campaign = create_from_template(db.session, "wuhan-2016", 2026)
    responsible = [u for u in units.values() if u.is_responsible]
    areas = {u.id: [a for a in units.values() if a.parent_id == u.id] for u in responsible}
    rule_set = rulesets.rule_set_of(campaign)
    rows = []
    for i in range(1, n + 1):
        unit = rng.choice(responsible)
        employees = int(rng.lognormvariate(2.8, 1.1)) + 1
        formal = min(employees, int(rng.expovariate(0.6)))
        party = (
            rng.choice(["none", "standalone", "joint"]) if formal else rng.choice(["none", "joint"])
        )
        row = dict(
            campaign_id=campaign.id,
            unit_id=unit.id,
            area_id=rng.choice(areas[unit.id]).id if areas[unit.id] else None,
            kind="enterprise" if i % 5 else "social",
            name=f"合成组织{i}",
            credit_code=creditcode.make(i),
            category="other",
            operating_status="normal",
            registration_level=None if i % 5 else "district",
            employees=employees,
            formal_members=formal,
            probationary_members=0,
            party_org_status=party,
            instructor=rng.choice(["", "李四"]),
            mass_organizations="",
            responsible_person="王五",
        )
        row.update(apply_rules(row, rule_set))
        rows.append(row)
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(Organization), rows[start : start + 5000])
    figures.stale(db.session, campaign)  # Core inserts: recount before the commit
    sync_items(db.session, campaign)
    create_user(db.session, "bench", "coordinator", "quiet-orbit-lantern-31", "city")
    db.session.commit()
    biggest = db.session.execute(
        select(Unit.code, func.count())
        .join(Organization, Organization.unit_id == Unit.id)
        .group_by(Unit.code)
        .order_by(func.count().desc())
        .limit(1)
    ).first()
    return campaign.id, biggest[0]


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm up
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orgs", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gongjian-bench-"))
    url = args.database or f"sqlite:///{tmp / 'bench.db'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        t = time.perf_counter()
        cid, unit = build(args.orgs)
        items = db.session.scalar(select(func.count()).select_from(BoardItem))
        print(
            f"built {args.orgs} organizations, {items} board items in {time.perf_counter() - t:.1f} s",
            file=sys.stderr,
        )
        from campaign.core.models import Campaign

        campaign = db.session.get(Campaign, cid)
        item_id = db.session.scalar(select(BoardItem.id).where(BoardItem.state == "todo").limit(1))
        client = app.test_client()
        client.post("/login", data={"username": "bench", "password": "quiet-orbit-lantern-31"})

        def get(path):
            def run():
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)

            return run

        cases = {
            "bare SQL: figures per unit (reference)": lambda: figures.by_unit(db.session, campaign),
            "overview page (figures of every unit)": get(f"/campaigns/{cid}"),
            "city wall chart": get(f"/campaigns/{cid}/board"),
            f"unit board, page 1 ({unit})": get(f"/campaigns/{cid}/units/{unit}/board"),
            f"unit board, filtered ({unit})": get(
                f"/campaigns/{cid}/units/{unit}/board?kind=enterprise&overdue=&q=合成组织1"
            ),
            "item page": get(f"/campaigns/{cid}/items/{item_id}"),
        }
        backend = url.split(":", 1)[0]
        print(
            f"\n{args.orgs} organizations, {items} items, {backend}, {args.repeat} requests each\n"
        )
        print("| request | median ms | p95 ms |")
        print("|---|---:|---:|")
        for name, fn in cases.items():
            times = sorted(timed(fn, args.repeat))
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            print(f"| {name} | {statistics.median(times):.1f} | {p95:.1f} |")


if __name__ == "__main__":
    main()
