"""The .ics calendar file of a parent-evening registration (made with icalendar)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event

from bot.messages import Attachment
from storage.base import utcnow
from storage.parent_evenings import CANCELLED, EveningSession

PRODID = "-//citybot//parent evenings//DE"


def registration_uid(registration_id: int) -> str:
    """The event's UID: stable for the registration across moves of the session."""
    return f"citybot-evening-registration-{registration_id}@citybot"


def calendar_file(
    session: EveningSession,
    registration_id: int,
    link: str,
    tz: ZoneInfo,
    *,
    description: str,
    alarm_text: str,
    name: str = "elternabend",
) -> Attachment:
    """A one-event calendar: local start/end in the city zone, link in URL and DESCRIPTION;
    the file is called <name>-<session id>.ics (name in the reader's language)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if session.status == CANCELLED else "PUBLISH")
    event = Event()
    event.add("uid", registration_uid(registration_id))
    event.add("sequence", session.sequence)
    event.add("dtstamp", utcnow())
    event.add("dtstart", session.starts_at.astimezone(tz))
    event.add("dtend", session.ends_at.astimezone(tz))
    event.add("summary", f"{session.title} – {session.school.name}")
    event.add("description", f"{description}\n{link}")
    event.add("url", link)
    event.add("status", "CANCELLED" if session.status == CANCELLED else "CONFIRMED")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", alarm_text)
    alarm.add("trigger", timedelta(hours=-1))
    event.add_component(alarm)
    cal.add_component(event)
    if hasattr(cal, "add_missing_timezones"):
        cal.add_missing_timezones()
    return Attachment(f"{name}-{session.id}.ics", cal.to_ical(), "text/calendar")
