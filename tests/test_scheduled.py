"""Reminders and job alerts: due rows become outbox rows once; useless ones are dropped."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot import scheduler as scheduling
from bot.notify import cancel_reminders, remind
from bot.scheduled import release_reminders, render_params
from handlers.jobs import job_alert_digest
from storage import jobs, outbox, reminders
from storage.base import utcnow
from storage.users import get_or_create_user


@pytest.fixture
async def bound(app):
    scheduling.bind(app)
    yield app
    scheduling.bind(None)  # type: ignore[arg-type]


async def _user(app, name: str = "rita", language: str = "de") -> int:
    async with app.sessions() as db, db.begin():
        user, _ = await get_or_create_user(db, "console", name, language=language)
        return user.id


async def _outbox(app) -> list[outbox.OutboxMessage]:
    async with app.sessions() as db:
        return list(
            await db.scalars(select(outbox.OutboxMessage).order_by(outbox.OutboxMessage.id))
        )


async def test_a_reminder_due_during_downtime_is_sent_after_the_restart(bound):
    user = await _user(bound)
    async with bound.sessions() as db, db.begin():
        await remind(
            db,
            user,
            utcnow() - timedelta(hours=2),
            "jobs.alert.deleted",
            valid_until=utcnow() + timedelta(hours=1),
        )
    assert await release_reminders() == (1, 0)
    [message] = await _outbox(bound)
    assert (
        message.recipient == "rita" and message.payload[0]["text"] == "Benachrichtigung gelöscht."
    )
    assert await release_reminders() == (0, 0), "a reminder fires once"


async def test_a_reminder_that_became_useless_is_dropped(bound):
    user = await _user(bound)
    async with bound.sessions() as db, db.begin():
        await remind(
            db,
            user,
            utcnow() - timedelta(hours=2),
            "jobs.alert.deleted",
            valid_until=utcnow() - timedelta(minutes=1),
        )
    assert await release_reminders() == (0, 1)
    assert await _outbox(bound) == []


async def test_future_and_cancelled_reminders_wait(bound):
    user = await _user(bound)
    async with bound.sessions() as db, db.begin():
        await remind(db, user, utcnow() + timedelta(hours=1), "jobs.alert.deleted")
        await remind(
            db, user, utcnow() - timedelta(seconds=1), "jobs.alert.deleted", ref="evening:1"
        )
        assert await cancel_reminders(db, "evening:1") == 1
    assert await release_reminders() == (0, 0)
    async with bound.sessions() as db:
        assert len(await reminders.pending_of(db, user)) == 1


def test_reminder_times_are_shown_in_the_city_zone_and_language():
    tz = ZoneInfo("Europe/Berlin")
    params = {"starts_at": "2026-12-01T17:00:00+00:00", "school": "Goethe"}
    assert render_params(params, "de", tz) == {
        "starts_at": "01.12.2026, 18:00",
        "school": "Goethe",
    }
    assert render_params(params, "en", tz)["starts_at"] == "1 Dec 2026, 18:00"


async def _post(db, title: str, field: str, district: str = "Hörde") -> jobs.JobPosting:
    employer = await jobs.get_or_create_employer(db, "Testpflege GmbH")
    return await jobs.post_job(
        db,
        employer,
        title=title,
        field=field,
        employment_type="part_time",
        district=district,
        description="Beschreibung.",
        contact="t@x.example",
    )


async def test_immediate_alert_gets_a_matching_posting_once_not_a_non_matching(app, chat):
    await chat.say("sag mir bescheid wenn es neue pflegejobs gibt")
    await chat.press("Sofort")
    await chat.say("sag mir bescheid wenn es neue pflegejobs in hörde gibt")
    await chat.press("Sofort")  # a second alert the posting matches: still one message
    async with app.sessions() as db:
        assert await db.scalar(select(func.count(jobs.JobAlert.id))) == 2
    from storage.users import create_invite

    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, "employer", "Testpflege GmbH")).code
    from tests.conftest import Chat

    boss = Chat(app, "boss", chat.transport.files_dir, "de")
    await boss.say(f"/claim {code}")
    for title, field in (("Pflegefachkraft Nachtdienst", "Pflege"), ("Koch", "Gastronomie")):
        await boss.say("/postjob")
        for answer in (
            title,
            field,
            "Hörde",
            "Teilzeit",
            "Eine Beschreibung der Stelle hier.",
            "0231 4711",
            "ja",
        ):
            await boss.say(answer)
        assert "Veröffentlicht" in boss.last().text
    messages = await _outbox(app)
    assert [m.recipient for m in messages] == ["anna"]
    assert "Pflegefachkraft Nachtdienst" in messages[0].payload[0]["text"]
    assert messages[0].payload[0]["buttons"][0][0] == "Details"


async def test_daily_digest_lists_new_matches_once(bound, chat):
    await chat.say("sag mir bescheid wenn es neue jobs im lager gibt")
    assert "Gespeichert" in chat.last().text
    async with bound.sessions() as db, db.begin():
        alert = await db.scalar(select(jobs.JobAlert))
        assert alert.field == "logistics" and not alert.immediate
        alert.created_at = utcnow() - timedelta(days=1)
        await _post(db, "Lagerhelfer Frühschicht", "logistics")
        await _post(db, "Pflegekraft", "nursing")
    assert await job_alert_digest() == 1
    [message] = await _outbox(bound)
    assert "Lagerhelfer Frühschicht" in message.payload[0]["text"]
    assert "Pflegekraft" not in message.payload[0]["text"]
    assert await job_alert_digest() == 0, "the same postings are not sent again"
    async with bound.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(outbox.OutboxMessage)) == 1


async def _alert(db, user_id: int, field: str, *, immediate: bool = False,
                 district: str | None = None) -> jobs.JobAlert:
    alert = jobs.JobAlert(user_id=user_id, field=field, district=district, immediate=immediate,
                          created_at=utcnow() - timedelta(days=1))
    db.add(alert)
    await db.flush()
    return alert


async def test_a_users_daily_alerts_make_one_digest_without_what_an_immediate_alert_told(bound):
    rita, bea = await _user(bound, "rita"), await _user(bound, "bea")
    async with bound.sessions() as db, db.begin():
        # rita: two daily alerts that both match the nursing posting, and one immediate alert
        # for logistics that told her of the warehouse posting when it was posted
        await _alert(db, rita, "nursing")
        await _alert(db, rita, "nursing", district="Hörde")
        await _alert(db, rita, "logistics")
        await _alert(db, rita, "logistics", immediate=True)
        await _alert(db, bea, "logistics")  # bea has no immediate alert: she is told
        await _post(db, "Pflegekraft Hörde", "nursing")
        await _post(db, "Lagerhelfer Frühschicht", "logistics")
    assert await job_alert_digest() == 2
    rita_msg, bea_msg = await _outbox(bound)
    text = rita_msg.payload[0]["text"]
    assert rita_msg.recipient == "rita" and text.count("Pflegekraft Hörde") == 1, text
    assert "Lagerhelfer" not in text, "her immediate alert told it already"
    assert bea_msg.recipient == "bea" and "Lagerhelfer Frühschicht" in bea_msg.payload[0]["text"]
    assert await job_alert_digest() == 0, "the same postings are not sent again"


async def test_digest_alerts_page_by_user_with_all_their_alerts_on_both_databases(bare_sessions):
    from storage.users import create_user

    async with bare_sessions() as db, db.begin():
        users = [(await create_user(db, "console", f"u{n}", language="de")).id for n in range(3)]
        for user_id in users:
            await _alert(db, user_id, "nursing")
        await _alert(db, users[1], "logistics", immediate=True)
        await _alert(db, users[0], "logistics")
    async with bare_sessions() as db:
        first = await jobs.digest_alerts(db, 0, 2)
        assert [(a.user_id, a.immediate) for a in first] == [
            (users[0], False), (users[0], False), (users[1], False), (users[1], True)
        ]
        rest = await jobs.digest_alerts(db, users[1], 2)
        assert [a.user_id for a in rest] == [users[2]]
        assert await jobs.digest_alerts(db, users[2], 2) == []
