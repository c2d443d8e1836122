"""理顺率 and 新建党组织选派率 (seed 004 phases 5 and 6) on a small ledger worked out by hand.

The campaign (2026, from wuhan-2016) begins on 2026-08-14.
江岸区:
  1 单独组建, founded 2026-09-10 (new), 隶属关系 put right on 11-02; 第一书记 王五 sent on 09-20
  2 联合组建, founded 2026-08-14 (new: the campaign's first day), put right; nobody sent
  3 单独组建, founded 2026-08-13 (before the campaign), put right
  4 联合组建, no founding date (not new), not put right
  5 no Party org, marked put right (a Party org it no longer has): not counted
  6 空壳 (out of the base), 单独组建 founded 2026-09-01, put right, 指导员 sent: not counted
武昌区:
  7 单独组建, founded 2026-09-15 (new), not put right; the name of the one sent is an
    ideographic space only: nobody sent
江岸: Party orgs {1,2,3,4}, put right {1,2,3} -> 理顺率 3/4 = 75.0 %;
      new {1,2}, with someone sent {1} -> 选派率 1/2 = 50.0 %.
武昌: Party orgs {7}, put right {} -> 0 %; new {7}, sent {} -> 0 %.
City: 3/5 = 60.0 %; 1/3 = 33.3 %.
As of 2026-09-12 (a bulletin's cut-off): 江岸 Party orgs {1,2,3,4}, put right by then {2,3},
new {1,2}, sent by then {}; 武昌 has no Party org yet (7 founded 09-15).
"""

from datetime import date

from campaign import figures
from campaign.core.extensions import db
from campaign.figures import PhaseCounts
from tests.conftest import login, make_campaign, make_org, make_unit, make_user


def _phases(org, settled=False, liaison="", settled_on=None, assigned_on=None):
    org.affiliation_settled = settled
    org.affiliation = "territorial" if settled else None
    org.affiliation_settled_on = settled_on
    org.liaison_name = liaison
    org.liaison_assigned_on = assigned_on
    return org


def test_settled_and_liaison_rates_per_unit_and_overall(app):
    jiangan, wuchang = make_unit("jiangan", "江岸区"), make_unit("wuchang", "武昌区")
    campaign = make_campaign(2026)
    assert campaign.starts_on == date(2026, 8, 14)

    def org(unit, party_org, founded_on=None, **kwargs):
        made = make_org(
            campaign,
            unit,
            formal=3,
            party_org=party_org,
            founded_on=founded_on,
            status=kwargs.pop("status", "normal"),
        )
        return _phases(made, **kwargs)

    org(
        jiangan,
        "standalone",
        date(2026, 9, 10),
        settled=True,
        settled_on=date(2026, 11, 2),
        liaison="王五",
        assigned_on=date(2026, 9, 20),
    )
    org(jiangan, "joint", date(2026, 8, 14), settled=True)
    org(jiangan, "standalone", date(2026, 8, 13), settled=True)
    org(jiangan, "joint")
    org(jiangan, "none", settled=True)
    org(jiangan, "standalone", date(2026, 9, 1), settled=True, liaison="李四", status="shell")
    org(wuchang, "standalone", date(2026, 9, 15), liaison="\u3000")
    db.session.flush()

    by_unit = figures.phase_counts_by_unit(db.session, campaign)
    assert by_unit == {
        jiangan.id: PhaseCounts(party_orgs=4, settled=3, new_party_orgs=2, new_with_liaison=1),
        wuchang.id: PhaseCounts(party_orgs=1, settled=0, new_party_orgs=1, new_with_liaison=0),
    }
    assert (by_unit[jiangan.id].settled_rate, by_unit[jiangan.id].liaison_rate) == (0.75, 0.5)
    assert (by_unit[wuchang.id].settled_rate, by_unit[wuchang.id].liaison_rate) == (0.0, 0.0)

    city = figures.phase_counts(db.session, campaign)
    assert city == PhaseCounts(party_orgs=5, settled=3, new_party_orgs=3, new_with_liaison=1)
    assert city.settled_rate == 0.6
    assert round(city.liaison_rate * 100, 1) == 33.3
    assert figures.phase_counts(db.session, campaign, [wuchang.id]).settled == 0
    # The tally (what the overview reads) says what the ledger says.
    assert figures.phase_counts_by_unit(db.session, campaign, as_of=date(2100, 1, 1)) == by_unit
    assert figures.phase_counts_by_unit(db.session, campaign, as_of=date(2026, 9, 12)) == {
        jiangan.id: PhaseCounts(party_orgs=4, settled=2, new_party_orgs=2, new_with_liaison=0)
    }
    # The overview's card, city-wide for the working group.
    make_user("coord", "coordinator")
    db.session.commit()
    client = app.test_client()
    login(client, "coord")
    html = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    card = html[html.index('id="phase-figures"') :]
    assert '隶属关系理顺率</div>\n    <div class="value">60.0%</div>' in card
    assert "已理顺3个 · 新建党组织选派率33.3%（1/3）" in card
    # No Party org at all: no rate (not 0 %).
    assert PhaseCounts().settled_rate is None and PhaseCounts().liaison_rate is None


def test_moving_the_campaigns_first_day_recounts_its_new_party_orgs(app):
    # Founded 08-10: not new while the campaign begins 08-14, new once it begins 08-01.
    from campaign.core.campaigns import update_settings

    unit = make_unit("jiangan", "江岸区")
    campaign = make_campaign(2026)
    made = make_org(campaign, unit, formal=3, party_org="standalone", founded_on=date(2026, 8, 10))
    _phases(made, liaison="王五")
    db.session.commit()
    assert figures.phase_counts(db.session, campaign) == PhaseCounts(party_orgs=1)
    update_settings(db.session, campaign, {"starts_on": date(2026, 8, 1)}, None)
    db.session.commit()
    assert figures.phase_counts(db.session, campaign) == PhaseCounts(
        party_orgs=1, new_party_orgs=1, new_with_liaison=1
    )
