"""Telegram pieces on their own: rendering, update mapping, flood control, config."""

from __future__ import annotations

import asyncio
import time

import pytest
from telegram import Update

from bot.config import ConfigError, TelegramRateLimits, config_from_mapping
from bot.messages import Attachment, Button, Invoice, Reply
from bot.telegram.limiter import FloodControl
from bot.telegram.render import keyboard, plan, split_text, telegram_length, to_html
from bot.telegram.updates import to_incoming
from tests.fake_bot_api import ApiError, parse_html

BOT = "citybot_test_bot"


def test_user_text_is_escaped_and_reads_back_unchanged():
    text = "Müller & Söhne <GmbH> sucht 2 > 1"
    assert parse_html(to_html(text)) == text


def test_bad_html_is_what_the_fake_refuses():
    for bad in ("<b>offen", "a < b", "Müller & Söhne", "<script>x</script>"):
        with pytest.raises(ApiError):
            parse_html(bad)


def test_long_text_splits_at_paragraphs_first():
    paragraphs = [f"{n} " + "x" * 1500 for n in range(5)]
    parts = split_text("\n\n".join(paragraphs))
    assert parts == ["\n\n".join(paragraphs[0:2]), "\n\n".join(paragraphs[2:4]), paragraphs[4]]


def test_a_paragraph_longer_than_the_limit_splits_at_lines_then_words():
    text = "\n".join(["wort " * 300] * 5) + "\n" + "y" * 5000
    parts = split_text(text)
    assert all(telegram_length(to_html(p)) <= 4096 for p in parts)
    assert "".join(parts).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(
        " ", ""
    )


def test_escaping_counts_towards_the_limit():
    parts = split_text("&" * 5000)
    assert all(len(to_html(p)) <= 4096 for p in parts) and sum(map(len, parts)) == 5000


def test_buttons_two_to_a_row_when_short():
    short = keyboard([Button("Details", "job.details:1"), Button("Bewerben", "job.apply:1")])
    assert short is not None and len(short["inline_keyboard"]) == 1
    long = keyboard([Button("Benachrichtige mich bei neuen Stellen", "job.alert")] * 2)
    assert long is not None and len(long["inline_keyboard"]) == 2


def test_a_short_text_is_the_caption_and_invoices_need_payments():
    image = Attachment("qr.png", b"png", "image/png")
    calls = plan(Reply("QR", [Button("OK", "ok")], image=image), invoices=False)
    assert [(c.method, c.text, len(c.buttons)) for c in calls] == [("sendPhoto", "QR", 1)]
    invoice = Invoice("Gutschein", "15 €", 1500, "voucher:1")
    assert [c.method for c in plan(Reply("Bitte", invoice=invoice), invoices=False)] == [
        "sendMessage"
    ]
    assert [c.method for c in plan(Reply("Bitte", invoice=invoice), invoices=True)] == [
        "sendMessage",
        "sendInvoice",
    ]


def test_a_venue_follows_the_text_and_carries_the_buttons():
    from bot.messages import Venue

    venue = Venue(51.5068, 7.4474, "Café Rosa", "Arneckestraße 12, 44139 Dortmund")
    calls = plan(Reply("So kommst du hin", [Button("OK", "ok")], venue=venue), invoices=False)
    assert [c.method for c in calls] == ["sendMessage", "sendVenue"]
    assert calls[0].buttons == [] and calls[1].buttons == [Button("OK", "ok")]
    assert calls[1].venue == venue


def _message(text: str, chat: dict | None = None, entities: list | None = None) -> Update:
    user = {"id": 7, "is_bot": False, "first_name": "Ada", "language_code": "en-GB"}
    message = {
        "message_id": 3,
        "from": user,
        "chat": chat or {"id": 7, "type": "private", "first_name": "Ada"},
        "date": 1700000000,
        "text": text,
    }
    if entities:
        message["entities"] = entities
    return Update.de_json({"update_id": 1, "message": message}, None)


def _command_entity(length: int) -> list[dict]:
    return [{"offset": 0, "length": length, "type": "bot_command"}]


def test_commands_for_this_bot_lose_the_bot_name():
    incoming = to_incoming(_message(f"/start@{BOT} job-12", entities=_command_entity(23)), BOT, 1)
    assert incoming is not None
    assert (incoming.kind, incoming.text, incoming.locale) == ("command", "/start job-12", "en-GB")
    assert incoming.event_id == "m:7:3"


def test_commands_for_other_bots_are_ignored():
    assert to_incoming(_message("/start@other_bot", entities=_command_entity(16)), BOT, 1) is None


def test_group_texts_are_addressed_only_by_mention():
    group = {"id": -100, "type": "supergroup", "title": "Eltern"}
    plain = to_incoming(_message("hallo", group), BOT, 1)
    assert plain is not None and plain.is_group and not plain.addressed
    mention = to_incoming(_message(f"@{BOT} jobs in der pflege", group), BOT, 1)
    assert mention is not None and mention.addressed and mention.text == "jobs in der pflege"


def test_invoice_payload_is_limited():
    with pytest.raises(ValueError):
        Invoice("t", "d", 100, "x" * 129)


async def test_flood_control_holds_one_chat_to_its_rate():
    flood = FloodControl(TelegramRateLimits(per_chat_per_second=20, per_chat_burst=1))
    began = time.monotonic()
    for _ in range(5):
        await flood.acquire("1")
    assert time.monotonic() - began >= 0.15


async def test_flood_control_pauses_everything_after_a_429():
    flood = FloodControl(TelegramRateLimits())
    flood.pause(0.3)
    began = time.monotonic()
    await flood.acquire("2", direct=False)
    assert time.monotonic() - began >= 0.29


async def test_direct_answers_go_before_outbox_traffic():
    flood = FloodControl(TelegramRateLimits(overall_per_second=5))
    for n in range(5):  # use up the burst
        await flood.acquire(f"warm{n}")
    order: list[str] = []

    async def send(name: str, direct: bool) -> None:
        await flood.acquire(name, direct=direct)
        order.append(name)

    outbox = [asyncio.create_task(send(f"outbox{n}", False)) for n in range(2)]
    await asyncio.sleep(0.01)
    direct = [asyncio.create_task(send(f"direct{n}", True)) for n in range(2)]
    await asyncio.gather(*outbox, *direct)
    assert order[:2] == ["direct0", "direct1"]


def test_telegram_config_is_checked_at_the_door():
    config = config_from_mapping({"telegram": {"token": "1:x"}})
    assert config.telegram is not None and config.telegram.webhook is None
    with pytest.raises(ConfigError, match=r"telegram\.webhook\.secret_token"):
        config_from_mapping(
            {"telegram": {"token": "1:x", "webhook": {"url": "https://x", "secret_token": "ä"}}}
        )


async def test_flood_control_holds_a_group_to_its_minute_limit():
    flood = FloodControl(TelegramRateLimits(per_group_per_minute=3, per_chat_burst=10))
    for _ in range(3):
        await flood.acquire("-100", group=True)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(flood.acquire("-100", group=True), 0.3)
