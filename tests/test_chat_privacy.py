"""Every user can see and delete their data from the chat."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.i18n import translator
from storage import jobs
from storage.base import Base
from storage.jobs import JobAlert
from storage.privacy import EXPORTERS
from storage.users import Identity, User, create_invite


async def test_export_my_data_returns_a_json_file(chat):
    await chat.say("sag mir bescheid wenn es neue pflegejobs gibt")
    await chat.press("Sofort")
    await chat.say("welche daten habt ihr über mich")
    reply = chat.last()
    assert reply.file is not None and reply.file.filename.endswith(".json")
    data = json.loads(reply.file.content)
    assert data["job_alerts"][0]["field"] == "nursing"
    assert data["job_alerts"][0]["immediate"] is True
    assert data["account"][0]["identities"] == [{"platform": "console", "id": "anna"}]
    assert "citybot-my-data.json" in chat.text()
    # the summary names the sections in the user's words, only those with something in them
    assert "Job-Benachrichtigungen: 1" in reply.text and "Konto: 1" in reply.text
    assert "job_alerts" not in reply.text and "Kassenbuchungen" not in reply.text


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_export_section_has_a_name_in_both_languages(language):
    t = translator(language)
    for section in EXPORTERS:
        assert t(f"privacy.section.{section}") != f"privacy.section.{section}", section


async def test_delete_my_data_asks_first_then_erases_everything(app, chat):
    await chat.say("sag mir bescheid wenn es neue pflegejobs gibt")
    await chat.press("Sofort")
    await chat.say("lösch alle meine daten")
    assert "wirklich" in chat.last().text
    await chat.press("Nein, behalten")
    async with app.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(User)) == 1
    await chat.say("/deletedata")
    await chat.press("Ja, alles löschen")
    assert "gelöscht" in chat.last().text
    async with app.sessions() as db:
        for model in (User, Identity, JobAlert):
            assert await db.scalar(select(func.count()).select_from(model)) == 0
    await chat.say("hallo")
    assert chat.last().text, "writing again starts afresh"


# every table that links a row to a user, and the export section that shows those rows; a new
# link to users.id must get its section here (and its exporter) – or this test fails
LINKED_TABLES = {
    "identities": "account", "role_grants": "account", "conversation_states": "conversations",
    "job_alerts": "job_alerts", "applications": "job_applications",
    "job_postings": "job_postings", "invite_codes": "invite_codes_claimed",
    "vouchers": "vouchers", "voucher_ledger": "voucher_till_entries",
    "voucher_wrong_codes": None,  # a time stamp per wrong guess, for throttling
    "shop_followers": "shop_following", "shop_updates": "shop_updates_written",
    "evening_registrations": "parent_evenings", "evening_sessions": "evening_sessions_created",
    "ppe_requests": "ppe_requests", "ppe_movements": "ppe_movements",
    "reminders": "reminders", "outbox": None,  # messages on their way: text dropped once sent
}


def test_every_table_linked_to_a_user_has_its_export_section():
    linked = {
        table.name
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "users"
    }
    assert linked == set(LINKED_TABLES)
    assert {s for s in LINKED_TABLES.values() if s} <= set(EXPORTERS)


async def test_what_staff_wrote_or_booked_is_in_their_export(app, chat_factory):
    boss = chat_factory("pflegedienst", "de")
    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, "employer", "Pflegedienst Sonnenschein")).code
    await boss.say(f"/claim {code}")
    async with app.sessions() as db, db.begin():
        user_id = await db.scalar(
            select(Identity.user_id).where(Identity.external_id == "pflegedienst")
        )
        employer = await jobs.get_or_create_employer(db, "Pflegedienst Sonnenschein")
        await jobs.post_job(db, employer, title="Nachtwache (m/w/d)", field="nursing",
                            employment_type="part_time", district="Hörde",
                            description="Nachtdienst in der ambulanten Pflege, zwei Nächte.",
                            contact="jobs@example.org", created_by=user_id)
    await boss.say("/mydata")
    data = json.loads(boss.last().file.content)
    assert [p["title"] for p in data["job_postings"]] == ["Nachtwache (m/w/d)"]
    assert data["invite_codes_claimed"][0]["role"] == "employer"
    assert code not in boss.last().file.content.decode()  # which role, not the code itself
