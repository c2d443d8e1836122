"""The scheduler's quality.detect job computes a campaign's signals only when something was
recorded since the last computation, and is one of the scheduler's stable jobs."""

from campaign import scheduler
from campaign.core.extensions import db
from campaign.quality.models import QualityRun, QualitySignal, SignalCode
from tests.conftest import make_campaign, make_org, make_unit
from tests.timeutil import at


def test_the_job_computes_when_something_was_recorded_and_not_otherwise(app):
    with at(2026, 10, 20, 10, 0):
        unit = make_unit("jiangan", "江岸区")
        campaign = make_campaign(2026)
        cid = campaign.id
        make_org(campaign, unit, name="党员多", employees=2, formal=3)
        db.session.commit()
        assert scheduler.detect_quality_signals(app) == 1
        assert scheduler.detect_quality_signals(app) == 0  # nothing recorded since
        codes = db.session.scalars(db.select(QualitySignal.code)).all()
        assert codes == [SignalCode.MEMBERS_EXCEED_EMPLOYEES]

        make_org(db.session.get(type(campaign), cid), db.session.get(type(unit), unit.id))
        db.session.commit()
        assert scheduler.detect_quality_signals(app) == 1
        assert db.session.get(QualityRun, cid).found == 1


def test_it_is_one_of_the_scheduler_s_jobs(app):
    ids = [job["id"] for job in scheduler.jobs(app)]
    assert ids.count("quality.detect") == 1
