"""Telegram end to end: python-telegram-bot's real request layer against the fake Bot API.

Every conversation runs in polling and in webhook mode.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import socket
import time
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.buttons import verify
from bot.config import TelegramConfig
from bot.context import Context
from bot.keys import load_secret
from bot.messages import Attachment, Button, Invoice, Payment, Reply
from bot.notify import broadcast
from bot.registry import command, payment, registry
from bot.sender import OutboxSender
from bot.telegram import TelegramTransport
from storage import outbox
from storage.jobs import OPEN, JobPosting
from storage.users import Identity, get_or_create_user
from tests.fake_bot_api import FakeBotAPI, Sent, User

SECRET = "s3cret-Token_1"
_user_ids = itertools.count(4_000_001)

# --- a test-only payment service ------------------------------------------------------

INVOICES: dict[str, dict[str, Any]] = {}
PAID: list[str] = []

if "testpay" not in registry.commands:

    @command("testpay")
    async def issue_test_invoice(ctx: Context, _args: str = "") -> list[Reply]:
        """Issue a 15 € test invoice."""
        invoice_payload = f"test:{len(INVOICES) + 1}"
        INVOICES[invoice_payload] = {"amount": 1500, "paid": False}
        invoice = Invoice("Gutschein 15 €", "Testgutschein", 1500, invoice_payload)
        return [Reply("Bitte bezahlen", invoice=invoice)]

    @payment("test", on="check")
    async def check_test_invoice(ctx: Context, paying: Payment) -> list[Reply]:
        """Still open, same amount, not paid."""
        issued = INVOICES.get(paying.payload)
        if issued is not None and issued.get("slow"):
            await asyncio.sleep(2)
        if issued is None or issued["paid"] or issued["amount"] != paying.amount_cents:
            return [Reply("Diese Rechnung ist nicht mehr gültig.")]
        return []

    @payment("test", on="paid")
    async def record_test_payment(ctx: Context, paying: Payment) -> list[Reply]:
        """Record the payment."""
        PAID.append(paying.charge_id)
        INVOICES[paying.payload]["paid"] = True
        return [Reply("Danke für deine Zahlung")]


LONG_TEXT = "\n\n".join(f"Absatz {n}: " + "Öffnungszeiten & <Termine> " * 60 for n in range(6))
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")

if "testmedia" not in registry.commands:

    @command("testmedia")
    async def send_media(ctx: Context, _args: str = "") -> list[Reply]:
        """A long text, a QR image and an .ics file."""
        return [
            Reply(LONG_TEXT),
            Reply(
                "Dein QR-Code", [Button("OK", "help")], image=Attachment("qr.png", PNG, "image/png")
            ),
            Reply("Termin", file=Attachment("termin.ics", b"BEGIN:VCALENDAR\r\n", "text/calendar")),
        ]


# --- harness --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Telegram:
    """citybot's Telegram transport wired to an app and the fake Bot API."""

    def __init__(self, app: App, fake: FakeBotAPI, mode: str) -> None:
        self.app = app
        self.fake = fake
        self.mode = mode
        self.port = free_port()
        self.processed: list[int] = []
        self.transport: TelegramTransport | None = None

    def settings(self, mode: str | None = None, **overrides: Any) -> TelegramConfig:
        raw: dict[str, Any] = {
            "token": self.fake.token,
            "api_base_url": self.fake.url,
            "poll_timeout_seconds": 5,
            "rate_limits": {"per_chat_burst": 100, "per_chat_per_second": 100},
            "payments": {"provider_token": "284685063:TEST:provider"},
        }
        if (mode or self.mode) == "webhook":
            raw["webhook"] = {
                "url": f"http://127.0.0.1:{self.port}/telegram/hook",
                "secret_token": SECRET,
                "listen_port": self.port,
            }
        raw.update(overrides)
        return TelegramConfig.model_validate(raw)

    async def start(self, mode: str | None = None, **overrides: Any) -> TelegramTransport:
        transport = TelegramTransport(
            self.settings(mode, **overrides), "de", secret=load_secret(self.app.config)
        )
        original = transport.process

        async def counting(update: Any) -> asyncio.Task[None] | None:
            """Counts an update as processed once its replies are delivered too."""
            delivery = None
            try:
                delivery = await original(update)
                return delivery
            finally:
                if delivery is None:
                    self.processed.append(update.update_id)
                else:
                    delivery.add_done_callback(lambda _: self.processed.append(update.update_id))

        transport.process = counting  # type: ignore[method-assign]
        await transport.start(self.app.dispatcher.handle)
        await asyncio.wait_for(transport.ready.wait(), 10)
        self.transport = transport
        return transport

    async def stop(self) -> None:
        if self.transport is not None:
            await self.transport.stop()
            self.transport = None

    async def deliver(self, update: dict[str, Any]) -> list[Sent]:
        """Push an update and wait until the transport has handled it; what it sent."""
        before = len(self.fake.sent)
        done = self.processed.count(update.get("update_id", -1))
        await self.fake.push(update)
        update_id = update["update_id"]
        assert await self.fake.wait_for(lambda: self.processed.count(update_id) > done), (
            f"update {update_id} not processed"
        )
        return self.fake.sent[before:]

    async def say(self, user: User, text: str, chat: dict[str, Any] | None = None) -> list[Sent]:
        return await self.deliver(self.fake.message_update(user, text, chat))

    async def press(self, user: User, sent: Sent, label: str) -> list[Sent]:
        data = dict(sent.buttons)[label]
        return await self.deliver(self.fake.callback_update(user, sent, data))


def new_user(language: str, name: str = "Anna") -> User:
    return User(next(_user_ids), name, language)


@pytest.fixture(params=["polling", "webhook"])
async def tg(request: pytest.FixtureRequest, app: App, fake: FakeBotAPI) -> Any:
    harness = Telegram(app, fake, request.param)
    await harness.start()
    yield harness
    await harness.stop()


async def open_job(app: App) -> JobPosting:
    async with app.sessions() as db:
        job = await db.scalar(select(JobPosting).where(JobPosting.status == OPEN).limit(1))
        assert job is not None
        return job


async def identity(app: App, user: User) -> Identity:
    async with app.sessions() as db:
        found = await db.scalar(
            select(Identity).where(
                Identity.platform == "telegram", Identity.external_id == str(user.id)
            )
        )
        assert found is not None
        return found


async def drain_all(app: App, transport: TelegramTransport, timeout: float = 90) -> None:
    """Run the outbox sender until nothing is pending or sending."""
    sender = OutboxSender(app.sessions, transport, app.config.outbox, "test-worker")

    async def open_rows() -> int:
        async with app.sessions() as db:
            return await db.scalar(
                select(func.count())
                .select_from(outbox.OutboxMessage)
                .where(outbox.OutboxMessage.status.in_([outbox.PENDING, outbox.SENDING]))
            )

    deadline = time.monotonic() + timeout
    while await open_rows():
        assert time.monotonic() < deadline, "outbox not drained"
        if not await sender.drain():
            await asyncio.sleep(0.05)


# --- conversations --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "search", "employer_word"),
    [
        ("de", "ich suche arbeit in der pflege", "Arbeitgeber"),
        ("en", "I am looking for a job in nursing", "Employer"),
    ],
)
async def test_job_search_with_buttons_and_an_old_button_pressed_again(
    tg: Telegram, language: str, search: str, employer_word: str
) -> None:
    anna = new_user(language)
    results = await tg.say(anna, search)
    assert [s.method for s in results] == ["sendMessage"], "a result page is one message"
    [page] = results
    apply = "Bewerben" if language == "de" else "Apply"
    rows = [[b["text"] for b in row] for row in page.message["reply_markup"]["inline_keyboard"]]
    titles = {
        int(line.split(". ", 1)[0]): line.split(". ", 1)[1]
        for line in page.text.splitlines()
        if line[:1].isdigit() and ". " in line
    }
    assert len(titles) == 3
    assert rows[:3] == [[f"{n} Details", f"{n} {apply}"] for n in (1, 2, 3)], "a row per item"
    stale = copy.deepcopy(page)

    answer = await tg.press(anna, page, "2 Details")
    assert answer[-1].text.splitlines()[0] == titles[2], "2 Details shows item 2"
    assert employer_word in answer[-1].text
    left = [label for label, _data in page.buttons]
    assert "2 Details" not in left and "3 Details" in left, "only the pressed button is gone"

    third = await tg.press(anna, page, "3 Details")
    assert third[-1].text.splitlines()[0] == titles[3], "the page's other buttons still work"

    again = await tg.deliver(tg.fake.callback_update(anna, stale, dict(stale.buttons)["2 Details"]))
    assert again == [], "an old button pressed again has no second effect"
    assert len(tg.fake.callback_answers) == 3, "every callback query is answered"


@pytest.mark.parametrize(("language", "word"), [("de", "Arbeitgeber"), ("en", "Employer")])
async def test_deep_link_start_opens_the_job(tg: Telegram, language: str, word: str) -> None:
    job = await open_job(tg.app)
    sent = await tg.say(new_user(language), f"/start job-{job.id}")
    assert job.title in sent[0].text and word in sent[0].text
    assert dict(sent[0].buttons), "the job comes with its buttons"


async def test_language_code_sets_the_language_on_first_contact(tg: Telegram) -> None:
    english = (await tg.say(new_user("en-GB", "Ben"), "/help"))[0].text
    german = (await tg.say(new_user("de", "Ada"), "/help"))[0].text
    assert english != german
    assert "/language" in english and "/language" in german


async def test_user_text_is_escaped_as_html(tg: Telegram) -> None:
    sent = await tg.say(new_user("de"), "/x<b>&amp")
    assert len(sent) == 1 and "<b>&amp" in sent[0].text
    assert ("sendMessage", 400) not in tg.fake.errors


async def test_commands_for_this_bot_and_not_for_others(tg: Telegram) -> None:
    anna = new_user("de")
    assert await tg.say(anna, f"/help@{tg.fake.username}")
    assert await tg.say(anna, "/help@some_other_bot") == []


async def test_in_groups_only_commands_and_mentions_are_answered(tg: Telegram) -> None:
    anna = new_user("de")
    group = tg.fake.group_chat(-1001234567890)
    assert await tg.say(anna, "hallo zusammen", group) == []
    assert await tg.say(anna, f"@{tg.fake.username} hallo", group)
    assert await tg.say(anna, "/help", group)
    assert all(s.chat_id == group["id"] for s in tg.fake.sent)


async def test_a_redelivered_update_has_no_second_effect(tg: Telegram) -> None:
    anna = new_user("de")
    update = tg.fake.message_update(anna, "/help")
    first = await tg.deliver(update)
    assert first
    redelivered = copy.deepcopy(update)
    if tg.mode == "polling":  # not confirmed before a restart: delivered again, same id
        await tg.stop()
        await tg.start()
    assert await tg.deliver(redelivered) == []


async def test_the_commands_menu_is_set_per_language(tg: Telegram) -> None:
    menus = tg.fake.commands
    assert {"de", "en", None} <= set(menus)
    names = {c["command"] for c in menus["de"]}
    assert {"start", "help", "language", "claim", "vouchers", "balance"} <= names
    assert not names & {"ppeapprove", "redeem", "postjob", "newevening"}  # a role's: in /help
    assert menus["de"] != menus["en"] and menus[None] == menus["de"]


# --- outbox: blocked users and flood control -------------------------------------------


async def test_a_user_who_blocked_the_bot_during_a_job_alert_broadcast(tg: Telegram) -> None:
    users = [new_user("de", name) for name in ("Anna", "Ben", "Cem")]
    for user in users:
        await tg.say(user, "/start")
    tg.fake.blocked.add(users[1].id)
    ids = [(await identity(tg.app, user)).user_id for user in users]
    before = len(tg.fake.sent)
    async with tg.app.sessions() as db, db.begin():
        count = await broadcast(
            db, ids, lambda t: [Reply("Neue Stelle: Pflegefachkraft (m/w/d)")], dedup_prefix="a1"
        )
    assert count == 3
    assert tg.transport is not None
    await drain_all(tg.app, tg.transport)
    got = sorted(s.chat_id for s in tg.fake.sent[before:])
    assert got == sorted([users[0].id, users[2].id])
    assert not (await identity(tg.app, users[1])).reachable

    async with tg.app.sessions() as db, db.begin():
        assert await broadcast(db, ids, lambda t: [Reply("Noch eine")], dedup_prefix="a2") == 2

    tg.fake.blocked.discard(users[1].id)
    await tg.say(users[1], "hallo")
    assert (await identity(tg.app, users[1])).reachable, "back when they write again"


async def test_a_429_storm_during_a_broadcast_of_hundreds(app: App, fake: FakeBotAPI) -> None:
    harness = Telegram(app, fake, "polling")
    transport = await harness.start(rate_limits={"overall_per_second": 1000})
    fake.overall_per_second = 40
    try:
        users = [new_user("de") for _ in range(300)]
        async with app.sessions() as db, db.begin():
            ids = []
            for user in users:
                fake.private_chat(user)
                person, _ = await get_or_create_user(db, "telegram", str(user.id), language="de")
                ids.append(person.id)
            await broadcast(db, ids, lambda t: [Reply("Neue Öffnungszeiten")], dedup_prefix="b")
        await drain_all(app, transport)
    finally:
        await harness.stop()
    chats = [s.chat_id for s in fake.sent if s.method == "sendMessage"]
    assert sorted(chats) == sorted(u.id for u in users), "all arrive, none twice"
    assert fake.rejected_429 > 0, "the fake's flood control did trigger"
    assert fake.early_requests == 0, "no request ignored retry_after"


# --- payments --------------------------------------------------------------------------


async def test_invoice_pre_checkout_and_a_payment_delivered_twice(tg: Telegram) -> None:
    anna = new_user("de")
    sent = await tg.say(anna, "/testpay")
    assert [s.method for s in sent] == ["sendMessage", "sendInvoice"]
    invoice = sent[1]
    assert invoice.message["invoice"]["total_amount"] == 1500

    query = await tg.fake.pre_checkout(anna, invoice)
    assert await tg.fake.wait_for(lambda: query in tg.fake.pre_checkout_answers)
    answer = tg.fake.pre_checkout_answers[query]
    assert answer["ok"] is True and answer["after"] < 10

    paid = tg.fake.payment_update(anna, invoice, "charge-1")
    thanks = await tg.deliver(paid)
    assert [s.text for s in thanks] == ["Danke für deine Zahlung"]
    twice = copy.deepcopy(paid) if tg.mode == "webhook" else {"message": paid["message"]}
    assert await tg.deliver(twice) == []
    assert PAID.count("charge-1") == 1

    again = await tg.fake.pre_checkout(anna, invoice)
    assert await tg.fake.wait_for(lambda: again in tg.fake.pre_checkout_answers)
    refused = tg.fake.pre_checkout_answers[again]
    assert refused["ok"] is False and refused["error_message"]
    PAID.clear()


# --- webhook and mode switches ---------------------------------------------------------


async def test_webhook_checks_the_secret_and_accepts_json_with_charset(
    app: App, fake: FakeBotAPI
) -> None:
    harness = Telegram(app, fake, "webhook")
    await harness.start()
    url = f"http://127.0.0.1:{harness.port}/telegram/hook"
    body = fake.message_update(new_user("de"), "/help")
    body["update_id"] = 77
    try:
        async with aiohttp.ClientSession() as session:
            for secret, expected in (("wrong", 403), ("", 403), (SECRET, 200)):
                headers = {"Content-Type": "application/json; charset=utf-8"}
                if secret:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = secret
                async with session.post(url, json=body, headers=headers) as response:
                    assert response.status == expected
            async with session.get(f"http://127.0.0.1:{harness.port}/healthz") as response:
                assert response.status == 200
            async with session.get(f"http://127.0.0.1:{harness.port}/metrics") as response:
                scraped = await response.text()
            assert 'citybot_telegram_updates_total{kind="command"}' in scraped
            assert 'citybot_telegram_sent_total{method="sendMessage"}' in scraped
    finally:
        await harness.stop()
    assert harness.processed == [77]


async def test_switching_between_webhook_and_polling(app: App, fake: FakeBotAPI) -> None:
    harness = Telegram(app, fake, "webhook")
    await harness.start()
    assert fake.webhook == {"url": harness.settings().webhook.url, "secret_token": SECRET}
    await harness.stop()

    await harness.start("polling")
    assert fake.webhook is None, "deleteWebhook on the way to polling"
    assert await harness.say(new_user("de"), "/help")
    await harness.stop()
    assert ("getUpdates", 409) not in fake.errors


# --- rendering and direct answers under flood control ----------------------------------


async def test_long_text_is_split_at_paragraphs_and_media_are_uploaded(tg: Telegram) -> None:
    sent = await tg.say(new_user("de"), "/testmedia")
    texts = [s for s in sent if s.method == "sendMessage"]
    assert len(texts) > 1 and all(len(s.text) <= 4096 for s in texts)
    assert "\n\n".join(s.text for s in texts) == LONG_TEXT
    photo, document = sent[-2], sent[-1]
    assert photo.method == "sendPhoto" and photo.text == "Dein QR-Code"
    secret = load_secret(tg.app.config)
    buttons = [(label, verify(secret, str(photo.chat_id), data)) for label, data in photo.buttons]
    assert buttons == [("OK", "help")], "callback data is the payload, signed for the chat"
    assert document.method == "sendDocument"
    assert document.message["document"]["file_name"] == "termin.ics"


async def test_direct_answers_wait_for_retry_after(app: App, fake: FakeBotAPI) -> None:
    harness = Telegram(app, fake, "webhook")
    await harness.start()
    fake.per_chat_per_second = 2
    try:  # a long text, a photo and a file: several messages at once (a search is one now)
        sent = await harness.say(new_user("de"), "/testmedia")
    finally:
        await harness.stop()
    assert fake.rejected_429 > 0
    assert fake.early_requests == 0, "no request ignored retry_after"
    assert len(sent) >= 4 and len({s.message["message_id"] for s in sent}) == len(sent)


# --- outbox sends: how Bot API answers map to SendResult -------------------------------


@pytest.mark.parametrize(
    ("status", "expected", "unreachable"),
    [(502, "retry", False), (500, "retry", False), (403, "failed", True), (400, "failed", False)],
)
async def test_send_maps_errors_to_results(
    app: App, fake: FakeBotAPI, caplog: pytest.LogCaptureFixture, status, expected, unreachable
) -> None:
    harness = Telegram(app, fake, "polling")
    transport = await harness.start()
    user = new_user("de")
    fake.private_chat(user)
    fake.fail_next = [status]
    try:
        result = await transport.send(str(user.id), [Reply("Geheimer Text 4711")], "k1")
    finally:
        await harness.stop()
    assert (result.status, result.unreachable) == (expected, unreachable)
    assert "Geheimer" not in caplog.text and fake.token not in caplog.text


async def test_a_retried_send_does_not_repeat_what_was_acknowledged(
    app: App, fake: FakeBotAPI
) -> None:
    harness = Telegram(app, fake, "polling")
    transport = await harness.start()
    user = new_user("de")
    fake.private_chat(user)
    replies = [Reply("eins"), Reply("zwei"), Reply("drei")]
    fake.fail_next = [None, 429]  # eins is acknowledged, zwei gets a 429
    try:
        result = await transport.send(str(user.id), replies, "row-7")
        assert result.status == "retry" and result.retry_after == 1
        again = await transport.send(str(user.id), replies, "row-7")  # waits out the 429
        assert again.status == "sent"
    finally:
        await harness.stop()
    assert fake.early_requests == 0
    assert [s.text for s in fake.sent] == ["eins", "zwei", "drei"]


async def test_a_slow_pre_checkout_is_still_answered_in_time(
    tg: Telegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.telegram.transport.PRE_CHECKOUT_SECONDS", 0.3)
    anna = new_user("en")
    invoice = (await tg.say(anna, "/testpay"))[-1]
    INVOICES[tg.fake.invoice_payload(invoice)]["slow"] = True
    query = await tg.fake.pre_checkout(anna, invoice)
    assert await tg.fake.wait_for(lambda: query in tg.fake.pre_checkout_answers, 5)
    answer = tg.fake.pre_checkout_answers[query]
    assert answer["ok"] is False and answer["error_message"] and answer["after"] < 1


async def test_a_direct_answer_survives_a_bad_gateway(tg: Telegram) -> None:
    tg.fake.fail_next = [502]
    sent = await tg.say(new_user("de"), "/help")
    assert len(sent) == 1 and ("sendMessage", 502) in tg.fake.errors
