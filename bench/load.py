"""Load run: wrk against gunicorn with 2 and 4 workers on PostgreSQL.

    .venv/bin/python bench/load.py --database postgresql+psycopg://… [--workers 2 4]
        [--duration 10] [--connections 8] [--size 2.0]

Loads the demo city (size × 3,300 organizations) into an empty database, starts gunicorn
("app:create_app()", the scheduler off) with each worker count, and runs wrk from another
process on loopback against: the city board page (logged-in session cookie), the figures
API (bearer token), and closure submission (POST multipart through the API, a different
open item each request, so every request is a real, successful 销号 claim). It prints
requests/s, latency percentiles and every error (non-2xx, socket errors): there must be
none. Needs wrk (Debian: apt-get install wrk).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _pdf() -> str:
    """A one-page PDF in plain ASCII (uploads are opened with pypdf), for a Lua string; each
    request appends a comment after %%EOF so every document differs."""
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out, offsets = "%PDF-1.4\n", []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n"
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out.replace("\n", "\\n")


LUA_CLOSURES = r"""
local ids = {%(ids)s}
local pdf = "%(pdf)s"
local token = "%(token)s"
local campaign = %(campaign)d
local boundary = "----gongjianbench"
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  nthreads = %(threads)d
end

local function field(name, value)
  return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" .. name ..
         "\"\r\n\r\n" .. value .. "\r\n"
end

request = function()
  local index = counter * nthreads + tid + 1
  counter = counter + 1
  local id = ids[index]
  if id == nil then
    -- Every open item is claimed: stop this thread (the request below is never sent).
    wrk.thread:stop()
    return wrk.format("GET", "/login")
  end
  local body = field("method", "standalone") .. field("party_org_name", "压测党支部") ..
    field("secretary", "张书记") .. field("formal_members", "3") ..
    field("established_on", "%(established)s") ..
    "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"document\"; " ..
    "filename=\"pifu.pdf\"\r\nContent-Type: application/pdf\r\n\r\n" .. pdf .. "%%bench " .. id ..
    "\n\r\n--" .. boundary .. "--\r\n"
  return wrk.format("POST", "/api/v1/campaigns/" .. campaign .. "/items/" .. id .. "/closures",
    {["Authorization"] = "Bearer " .. token,
     ["Content-Type"] = "multipart/form-data; boundary=" .. boundary}, body)
end
"""


def flask(env: dict, *args: str) -> str:
    return subprocess.run(
        [BIN / "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def prepare(env: dict, size: float) -> dict:
    """Schema, demo city, tokens and the open items a closure can be claimed for."""
    from datetime import date

    from sqlalchemy import select

    from app import create_app
    from campaign import demo
    from campaign.board.models import BoardItem
    from campaign.board.services import OPEN_STATES
    from campaign.core.accounts import issue_token
    from campaign.core.extensions import db
    from campaign.core.models import User

    flask(env, "db", "upgrade")
    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"]})
    with app.app_context():
        if db.session.scalar(select(User.id).limit(1)) is None:
            started = time.perf_counter()
            demo.load(db.session, today=date(2026, 11, 22), size=size)
            db.session.commit()
            print(f"demo loaded (size {size}) in {time.perf_counter() - started:.1f} s")
        campaign_id = db.session.scalar(select(BoardItem.campaign_id).limit(1))
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        coordinator = db.session.scalar(select(User).where(User.username == "zhuanban"))
        tokens = {
            "admin": issue_token(db.session, admin),
            "zhuanban": issue_token(db.session, coordinator),
        }
        ids = list(
            db.session.scalars(
                select(BoardItem.id)
                .where(BoardItem.campaign_id == campaign_id, BoardItem.state.in_(OPEN_STATES))
                .order_by(BoardItem.id)
            )
        )
        db.session.commit()
    return {"campaign": campaign_id, "tokens": tokens, "open_items": ids}


def login_cookie(base: str) -> str:
    s = requests.Session()
    html = s.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)
    s.post(
        f"{base}/login",
        data={"username": "zhuanban", "password": "gongjian-demo", "csrf_token": token},
        timeout=10,
    )
    return "; ".join(f"{k}={v}" for k, v in s.cookies.items())


WRK_LINE = {
    "rps": re.compile(r"Requests/sec:\s+([\d.]+)"),
    "requests": re.compile(r"(\d+) requests in"),
    "non2xx": re.compile(r"Non-2xx or 3xx responses: (\d+)"),
    "socket": re.compile(r"Socket errors: (.*)"),
    "p50": re.compile(r"50%\s+([\d.]+\w+)"),
    "p90": re.compile(r"90%\s+([\d.]+\w+)"),
    "p99": re.compile(r"99%\s+([\d.]+\w+)"),
}


def wrk(url: str, seconds: int, connections: int, threads: int, *extra: str) -> dict:
    out = subprocess.run(
        ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", *extra, url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = {k: (m.group(1) if (m := r.search(out)) else "") for k, r in WRK_LINE.items()}
    found["non2xx"] = found["non2xx"] or "0"
    found["socket"] = found["socket"] or "none"
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="PostgreSQL URL (an empty database)")
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--size", type=float, default=2.0)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")

    storage = tempfile.mkdtemp(prefix="gongjian-load-")
    env = {
        **os.environ,
        "DATABASE_URL": args.database,
        "STORAGE_PATH": storage,
        "MAIL_FOLDER": str(Path(storage) / "mail"),
        "SECRET_KEY": "load-bench",
        "GONGJIAN_SCHEDULER": "0",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    ctx = prepare(env, args.size)
    ids = ctx["open_items"]
    print(f"campaign {ctx['campaign']}: {len(ids)} open items for closure submissions")
    base = f"http://127.0.0.1:{args.port}"
    established = "2026-11-01"
    results = []
    for workers in args.workers:
        web = subprocess.Popen(
            [
                BIN / "gunicorn",
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{args.port}",
                "--access-logfile",
                "/dev/null",
                "app:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(120):
                try:
                    if requests.get(f"{base}/login", timeout=1).ok:
                        break
                except requests.RequestException:
                    time.sleep(0.5)
            cookie = login_cookie(base)
            c = ctx["campaign"]
            runs = [
                ("city board page", f"{base}/campaigns/{c}/board", ["-H", f"Cookie: {cookie}"]),
                (
                    "figures API",
                    f"{base}/api/v1/campaigns/{c}/figures",
                    ["-H", f"Authorization: Bearer {ctx['tokens']['zhuanban']}"],
                ),
            ]
            for name, url, extra in runs:
                wrk(url, 2, args.connections, 2, *extra)  # warm-up
                results.append(
                    (workers, name, wrk(url, args.duration, args.connections, 2, *extra))
                )
            # Closures: each request claims a different open item; the script stops a thread
            # when its share of items is used up, so no request is refused for lack of items.
            share, ids = ids[: len(ids) // len(args.workers)], ids[len(ids) // len(args.workers) :]
            lua = Path(storage) / f"closures-{workers}.lua"
            lua.write_text(
                LUA_CLOSURES
                % {
                    "ids": ",".join(map(str, share)),
                    "token": ctx["tokens"]["admin"],
                    "campaign": c,
                    "threads": 2,
                    "established": established,
                    "pdf": _pdf(),
                }
            )
            results.append(
                (
                    workers,
                    "closure submission",
                    wrk(f"{base}/", args.duration, args.connections, 2, "-s", str(lua)),
                )
            )
        finally:
            web.terminate()
            web.wait(timeout=30)

    print(f"\nwrk -t2 -c{args.connections} -d{args.duration}s, gunicorn sync workers, loopback")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print("| workers | endpoint | requests | req/s | p50 | p90 | p99 | non-2xx | socket errors |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for workers, name, r in results:
        print(
            f"| {workers} | {name} | {r['requests']} | {r['rps']} | {r['p50']} | {r['p90']} "
            f"| {r['p99']} | {r['non2xx']} | {r['socket']} |"
        )
    shutil.rmtree(storage, ignore_errors=True)


if __name__ == "__main__":
    main()
