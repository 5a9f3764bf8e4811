"""Which request a message is: an unsure role intent, and a form's own request said again."""

from __future__ import annotations

from typing import Any

from storage.users import create_invite


def _read_as(app, monkeypatch, readings: dict[str, tuple[str, float]]) -> None:
    """The NLU reads these texts as these intents with these confidences (others as usual)."""
    real = app.nlu.parse

    async def parse(text: str, lang: str | None = None) -> dict[str, Any]:
        result = await real(text, lang)
        if text in readings:
            name, confidence = readings[text]
            result = {**result, "intent": {"name": name, "confidence": confidence}}
        return result

    monkeypatch.setattr(app.nlu, "parse", parse)


async def test_an_unsure_role_intent_without_the_role_is_not_understood(app, chat, monkeypatch):
    _read_as(app, monkeypatch, {"zwanzig stück": ("request_ppe", 0.57),
                                "schutzausrüstung anfordern": ("request_ppe", 0.95)})
    await chat.say("zwanzig stück")  # before: "Das dürfen nur Nutzer mit der Rolle …"
    assert "nicht verstanden" in chat.last().text and "Rolle" not in chat.last().text
    await chat.say("schutzausrüstung anfordern")  # a sure reading still names the role
    assert "Rolle" in chat.last().text


async def test_the_forms_own_request_said_again_is_no_other_request(app, chat_factory):
    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, "ppe_requester", "feuerwehr")).code
    fire = chat_factory("wache", "de")
    await fire.say(f"/claim {code}")
    await fire.say("/ppe")
    await fire.say("wir brauchen 5000 kartons handschuhe")  # too much: an error, in the form
    assert "neuen Frage" not in fire.text(), "the PPE form's own request is no other one"
    await fire.say("welche jobs gibt es in der pflege")  # another service's request
    assert "neuen Frage" in fire.text()
