"""Every user can see and delete their data from the chat."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from storage.jobs import JobAlert
from storage.users import Identity, User


async def test_export_my_data_returns_a_json_file(chat):
    await chat.say("sag mir bescheid wenn es neue pflegejobs gibt")
    await chat.press("Sofort")
    await chat.say("welche daten habt ihr über mich")
    reply = chat.last()
    assert reply.file is not None and reply.file.filename.endswith(".json")
    data = json.loads(reply.file.content)
    assert data["job_alerts"][0]["field"] == "nursing"
    assert data["account"][0]["identities"] == [{"platform": "console", "id": "anna"}]
    assert "citybot-my-data.json" in chat.text()


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
