"""Time a 50,000-row ledger import against the bare read of the same file.

    .venv/bin/python bench/ledger_import.py [--rows 50000] [--repeat 3] [--database URL]

Builds a synthetic 附表1/附表2 file (deterministic), then for each repeat:
  bare read   python-calamine opens the workbook and reads both sheets to Python lists
  check       read_workbook: every cell parsed and validated (no database)
  import      the whole import into an empty draft ledger: check, diff, apply, commit
Prints a Markdown table of medians for BENCHMARKS.md.
"""

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from python_calamine import CalamineWorkbook
from sqlalchemy import delete, func, select

from app import create_app
from campaign.audit import AuditEntry, AuditHead
from campaign.core.campaigns import create_from_template
from campaign.core.extensions import db
from campaign.core.models import Unit
from campaign.core.vocab import UnitKind
from campaign.ledger import creditcode, excel, importing
from campaign.ledger.models import ImportBatch, Organization, UnitLedger

AREAS = [f"第{i}街道" for i in range(1, 13)]


def synthetic_rows(n: int) -> dict:
    rng = random.Random(50_000)
    enterprise, social = [], []
    for i in range(1, n + 1):
        employees = int(rng.lognormvariate(2.8, 1.1)) + 1
        formal = min(employees, int(rng.expovariate(0.6)))
        party = rng.choice(["none", "standalone", "joint"]) if formal else "none"
        row = dict(
            name=f"武汉合成测试{i}有限公司",
            credit_code=creditcode.make(i),
            district_name="测试区",
            area_name=rng.choice(AREAS),
            employees=employees,
            formal_members=formal,
            probationary_members=rng.choice((0, 0, 0, 1)),
            investor="张三",
            investor_is_member=rng.random() < 0.1,
            party_org_status=party,
            party_org_name="中共测试支部" if party != "none" else "",
            party_org_founded_on=None,
            no_party_org_reason="" if party != "none" else "党员不足3名",
            instructor=rng.choice(["", "李四"]),
            mass_organizations=rng.choice(["", "工会"]),
            measures="",
            planned_on=None,
            responsible_person="王五",
        )
        if i % 5:
            row.update(
                kind="enterprise",
                category=rng.choice(["other", "internet", "above_scale"]),
                operating_status="normal",
            )
            enterprise.append(row)
        else:
            row.update(
                kind="social",
                category=rng.choice(["school", "association", "other"]),
                registration_level="district",
                supervising_unit="",
            )
            row["name"] = f"武汉合成测试{i}协会"
            social.append(row)
    return {"enterprise": enterprise, "social": social}


def bare_read(data: bytes) -> int:
    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return sum(len(wb.get_sheet_by_name(name).to_python()) for name in wb.sheet_names)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="gongjian-bench-"))
    url = args.database or f"sqlite:///{tmp / 'bench.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    t = time.perf_counter()
    buffer = io.BytesIO()
    excel.write_workbook(synthetic_rows(args.rows), AREAS, buffer)
    data = buffer.getvalue()
    write_s = time.perf_counter() - t
    print(
        f"file: {args.rows} rows, {len(data) / 1e6:.1f} MB, written in {write_s:.1f} s",
        file=sys.stderr,
    )

    with app.app_context():
        db.drop_all()
        db.create_all()
        district = Unit(code="bench", name="测试区", kind=UnitKind.DISTRICT, is_responsible=True)
        db.session.add(district)
        db.session.flush()
        db.session.add_all(
            Unit(code=f"bench-{i}", name=name, kind=UnitKind.STREET, parent=district)
            for i, name in enumerate(AREAS)
        )
        campaign = create_from_template(db.session, "wuhan-2016", 2026)
        db.session.commit()
        ctx = importing.unit_context(db.session, district)
        timings = {
            "bare read": [],
            "check (read + validate)": [],
            "import (check + apply + commit)": [],
        }
        for _ in range(args.repeat):
            t = time.perf_counter()
            bare_read(data)
            timings["bare read"].append(time.perf_counter() - t)

            t = time.perf_counter()
            result = excel.read_workbook(data, ctx)
            timings["check (read + validate)"].append(time.perf_counter() - t)
            assert not result.problems, result.problems[:3]

            # The head goes with the entries: a head naming deleted entries is left as it is.
            for model in (Organization, ImportBatch, UnitLedger, AuditEntry, AuditHead):
                db.session.execute(delete(model))
            db.session.commit()
            t = time.perf_counter()
            batch = importing.start_import(
                db.session, campaign, district, data, "bench.xlsx", "bench", tmp
            )
            importing.process_import(db.session, batch, data)
            # The preview is committed and applied later, as in the app (run_import commits):
            # apply reads it back from the database.
            db.session.commit()
            importing.apply_import(db.session, batch, "bench")
            db.session.commit()
            timings["import (check + apply + commit)"].append(time.perf_counter() - t)
            count = db.session.scalar(select(func.count()).select_from(Organization))
            assert count == args.rows, count

    bare = statistics.median(timings["bare read"])
    backend = url.split(":", 1)[0]
    print(f"\n{args.rows} rows, {backend}, median of {args.repeat}\n")
    print("| step | median s | × bare read |")
    print("|---|---:|---:|")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.2f} | {median / bare:.2f} |")


if __name__ == "__main__":
    main()
