"""Writes behind the notification pages: a user's channel choices, the bulletin distribution
list, a unit's group robot. Each validates, changes, records the change, and flushes; the
caller commits (STYLE.md: a service)."""

from collections.abc import Mapping

from sqlalchemy import select

from campaign import audit
from campaign.core.db import Session
from campaign.core.errors import ValidationFailed
from campaign.core.models import Campaign, Unit
from notifications.channels import webhook as robots
from notifications.kinds import KINDS, USER_CHANNELS
from notifications.models import MailingListEntry, Preference, UnitWebhook


def save_preferences(session: Session, user, form: Mapping) -> None:
    """Store every kind × channel choice of the form (checked = wanted)."""
    stored = {
        (p.kind, p.channel): p
        for p in session.scalars(select(Preference).where(Preference.user_id == user.id))
    }
    for kind in KINDS:
        for channel in USER_CHANNELS:
            enabled = form.get(f"{kind}:{channel}") == "on"
            pref = stored.get((kind, channel))
            if pref is None:
                session.add(
                    Preference(user_id=user.id, kind=kind, channel=channel, enabled=enabled)
                )
            else:
                pref.enabled = enabled
    session.flush()


def add_to_mailing_list(session: Session, campaign: Campaign, name: str, email: str, user) -> None:
    """Add an address to the campaign's bulletin distribution list (recorded)."""
    email, name = email.strip(), name.strip()[:80]
    if "@" not in email or " " in email or len(email) > 200:
        raise ValidationFailed([("email", f"电子邮件地址“{email}”格式不正确")])
    if session.scalar(
        select(MailingListEntry.id).where(
            MailingListEntry.campaign_id == campaign.id, MailingListEntry.email == email
        )
    ):
        raise ValidationFailed([("email", f"{email} 已在分发名单中")])
    session.add(MailingListEntry(campaign_id=campaign.id, name=name, email=email))
    audit.record(
        session,
        user=user,
        action="mailing_list.add",
        obj_type="campaign",
        obj_id=campaign.id,
        after={"name": name, "email": email},
    )


def remove_from_mailing_list(session: Session, entry: MailingListEntry, user) -> None:
    """Take an address off the list (recorded with what it was)."""
    before = {"name": entry.name, "email": entry.email}
    session.delete(entry)
    audit.record(
        session,
        user=user,
        action="mailing_list.remove",
        obj_type="campaign",
        obj_id=entry.campaign_id,
        before=before,
    )


def save_webhook(session: Session, unit: Unit, flavour: str, url: str, user) -> None:
    """Set, change or clear (empty URL) a unit's robot; recorded with before and after, the
    robot's key masked."""
    hook = session.scalar(select(UnitWebhook).where(UnitWebhook.unit_id == unit.id))
    url = url.strip()
    unchanged = (hook.flavour, hook.url) == (flavour, url) if hook else not url
    if unchanged:
        return  # the same form posted again changes and records nothing
    before = {"flavour": hook.flavour, "url": robots.masked(hook.url)} if hook else {}
    if not url:
        if hook is not None:
            session.delete(hook)
    else:
        if problem := robots.check_url(flavour, url):
            raise ValidationFailed([("url", problem)])
        if hook is None:
            session.add(
                UnitWebhook(unit_id=unit.id, flavour=flavour, url=url, updated_by_id=user.id)
            )
        else:
            hook.flavour, hook.url, hook.updated_by_id = flavour, url, user.id
    audit.record(
        session,
        user=user,
        action="webhook.set",
        obj_type="unit",
        obj_id=unit.id,
        before=before,
        after={"flavour": flavour, "url": robots.masked(url)} if url else {},
    )
