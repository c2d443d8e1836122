"""`flask --app app init`: the first start of a city's own installation, without the demo.

It creates the city unit, the city's profile (the city and the issuing body a new campaign
takes) and the first admin; run again with the same arguments it changes nothing; it refuses
(exit code 1, a Chinese message, nothing written) a database with another admin or set up for
another city, and a weak password."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaign.audit import AuditEntry
from campaign.core.accounts import authenticate
from campaign.core.extensions import db
from campaign.core.models import Campaign, CityProfile, Unit, User
from campaign.core.vocab import Role, UnitKind
from tests.conftest import make_unit, make_user

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).parent / "flask"
ADMIN_PASSWORD = "amber-kettle-road-19"
INIT = ["init", "--city", "某市", "--issuer", "中共某市委组织部", "--admin", "boss"]


def flask(app, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """`flask --app app ARGS` in a process of its own, on the test's database."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "init-test",
        "STORAGE_PATH": app.config["STORAGE_PATH"],
    }
    return subprocess.run(
        [str(FLASK), "--app", "app", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def counts() -> tuple[int, int, int, int]:
    db.session.remove()
    return tuple(  # type: ignore[return-value]
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Unit, User, CityProfile, AuditEntry)
    )


def test_init_on_an_empty_database_then_again_then_with_another_admin(app, runner):
    # The first run in a process of its own, the password on its standard input as an
    # installer types it (tests/e2e/test_admin_journey.py runs `db upgrade` before it too);
    # the runs after it through the CLI runner, on the same database.
    first = flask(app, *INIT, "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
    assert first.returncode == 0, first.stderr
    assert "已创建系统管理员“boss”" in first.stdout
    db.session.remove()
    city = db.session.scalar(select(Unit))
    assert (city.code, city.name, city.kind, city.active) == (
        "city",
        "中共某市委组织部",
        UnitKind.CITY,
        True,
    )
    profile = db.session.get(CityProfile, 1)
    assert (profile.city_name, profile.issuing_body) == ("某市", "中共某市委组织部")
    admin = authenticate(db.session, "boss", ADMIN_PASSWORD)
    assert admin is not None and admin.role == Role.ADMIN and admin.unit_id == city.id
    assert admin.must_change_password is False  # he chose this password himself
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "system.init"))
    assert entry.actor == "init" and ADMIN_PASSWORD not in entry.after + entry.before
    before = counts()
    assert before == (1, 1, 1, 2)  # entries: the admin created, and init itself

    again = runner.invoke(args=[*INIT, "--password-stdin"], input=ADMIN_PASSWORD + "\n")
    assert again.exit_code == 0 and "本次无需修改" in again.output
    assert counts() == before

    other = runner.invoke(
        args=[*INIT[:-1], "someone", "--password-stdin"], input="quiet-harbor-lamp-62\n"
    )
    assert other.exit_code == 1
    assert "数据库中已有系统管理员“boss”" in other.output and "未做任何修改" in other.output
    assert counts() == before

    elsewhere = runner.invoke(
        args=[
            "init",
            "--city",
            "另一市",
            "--issuer",
            "中共另一市委组织部",
            "--admin",
            "boss",
            "--password-stdin",
        ],
        input=ADMIN_PASSWORD + "\n",
    )
    assert elsewhere.exit_code == 1 and "本系统已初始化为“某市”" in elsewhere.output
    assert counts() == before


def test_a_campaign_created_after_init_takes_the_city_and_issuing_body(app, runner):
    result = runner.invoke(args=[*INIT, "--password-stdin"], input=ADMIN_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["campaign", "create", "--year", "2027"])
    assert result.exit_code == 0, result.output
    campaign = db.session.scalar(select(Campaign))
    assert campaign.city_name == "某市" and campaign.issuing_body == "中共某市委组织部"
    assert campaign.name.startswith("某市非公有制经济组织和社会组织党组织集中组建")
    assert "武汉" not in campaign.name


def test_the_demo_is_not_loaded_into_an_initialised_database(app, runner):
    runner.invoke(args=[*INIT, "--password-stdin"], input=ADMIN_PASSWORD + "\n")
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0 and "跳过演示数据加载" in result.output
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 1


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "「密码」至少10个字符（现有5个）"),
        ("password123", "「密码」太容易被猜到"),
        ("boss-1234567", "「密码」不能包含用户名"),
        ("qwertyuiop1", "「密码」太容易被猜到"),
    ],
)
def test_a_weak_admin_password_is_refused_and_nothing_is_created(app, runner, password, message):
    result = runner.invoke(args=[*INIT, "--password-stdin"], input=password + "\n")
    assert result.exit_code == 1 and message in result.output
    assert counts() == (0, 0, 0, 0)


def test_init_refuses_a_database_with_another_admin_or_the_name_taken(app, runner):
    make_unit("jiangan", "江岸区")
    make_user("boss", "operator", db.session.scalar(select(Unit)))
    db.session.commit()
    taken = runner.invoke(args=[*INIT, "--password-stdin"], input=ADMIN_PASSWORD + "\n")
    assert taken.exit_code == 1
    assert "用户名“boss”已被使用（单位填报员），不能作为管理员；未做任何修改" in taken.output

    make_user("admin", "admin")
    db.session.commit()
    other = runner.invoke(args=[*INIT, "--password-stdin"], input=ADMIN_PASSWORD + "\n")
    assert other.exit_code == 1 and "数据库中已有系统管理员“admin”" in other.output
    assert db.session.scalar(select(func.count()).select_from(CityProfile)) == 0


def test_init_with_the_admins_name_but_another_password_changes_nothing(app, runner):
    runner.invoke(args=[*INIT, "--password-stdin"], input=ADMIN_PASSWORD + "\n")
    result = runner.invoke(args=[*INIT, "--password-stdin"], input="violet-anchor-town-33\n")
    assert result.exit_code == 1 and "密码与本次输入的不同" in result.output
    assert authenticate(db.session, "boss", ADMIN_PASSWORD) is not None


def test_init_says_to_upgrade_a_database_without_the_schema(app, runner):
    db.drop_all()
    result = runner.invoke(args=[*INIT, "--password-stdin"], input=ADMIN_PASSWORD + "\n")
    assert result.exit_code == 1 and "请先运行 flask --app app db upgrade" in result.output


def test_empty_city_or_issuer_is_refused_by_name(app, runner):
    result = runner.invoke(
        args=["init", "--city", " ", "--issuer", "", "--admin", "boss", "--password-stdin"],
        input=ADMIN_PASSWORD + "\n",
    )
    assert result.exit_code == 1
    assert "「城市」（--city）不能为空" in result.output
    assert "「发文机关」（--issuer）不能为空" in result.output
