"""Telegram transport (python-telegram-bot): long polling or webhook in, rendered replies out.

Polling (the default) may run in one process only – Telegram answers a second getUpdates
with 409 – so in polling mode the transport is leader-only. In webhook mode every process
serves the webhook on citybot's own aiohttp server. Starting in one mode removes the other
(setWebhook / deleteWebhook), so a bot moved between modes does not fail with 409.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hmac
import json
import logging
import warnings
import weakref
from datetime import timedelta
from functools import partial
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot as PTBBot
from telegram import BotCommand, InlineKeyboardMarkup, InputFile, LabeledPrice, Message, Update
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from bot import buttons
from bot.config import TelegramConfig
from bot.dispatcher import acknowledge
from bot.i18n import LANGUAGES, translator
from bot.keys import log_ref
from bot.messages import Attachment, Incoming, Reply
from bot.registry import registry
from bot.telegram.limiter import FloodControl
from bot.telegram.render import Outgoing, keyboard, plan_all
from bot.telegram.updates import PLATFORM, is_list_page, to_incoming
from bot.telegram.window import UpdateWindow
from bot.transport import Dispatch, SendResult
from bot.waiting import end_task
from bot.web import METRICS, WebServer

logger = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query", "pre_checkout_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PRE_CHECKOUT_SECONDS = 8.0  # Telegram waits 10 s for the answer
DIRECT_ATTEMPTS = 5
MAX_TRACKED_KEYS = 10_000
MAX_IN_FLIGHT = 200  # turns and deliveries at once in polling mode
TURNS_AT_ONCE = 8  # dispatches at once: more only queue for the database (SQLite: FIFO here)
REPOLL_SECONDS = 0.25  # only updates in flight came back: poll again after this at the latest
MAX_PHOTO_BYTES = 5 * 1024 * 1024  # larger photo sizes are not downloaded
STOP_GRACE_SECONDS = 10.0


def retry_seconds(error: RetryAfter) -> float:
    """retry_after of a 429 in seconds (PTB 22 returns int or timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _quiet_libraries() -> None:
    """httpx logs request URLs (they contain the token); PTB's debug log contains texts."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    if logging.getLogger("telegram").getEffectiveLevel() < logging.INFO:
        logging.getLogger("telegram").setLevel(logging.INFO)


class TelegramTransport:
    """Telegram in and out; see the module docstring for polling versus webhook."""

    name = PLATFORM

    def __init__(
        self, settings: TelegramConfig, default_language: str = "de", *, secret: bytes
    ) -> None:
        self.settings = settings
        self.default_language = default_language
        self.secret = secret  # signs callback data (bot/buttons.py); the dispatcher checks it
        self.leader_only = settings.webhook is None
        self.flood = FloodControl(settings.rate_limits)
        self.bot: PTBBot | None = None
        self.bot_id = 0
        self.username = ""
        self.web: WebServer | None = None
        self._dispatch: Dispatch | None = None
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False
        self.ready = asyncio.Event()
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._progress: dict[str, int] = {}
        self._in_flight: set[asyncio.Task[None]] = set()
        self._deliveries: dict[str, asyncio.Task[None]] = {}  # the newest delivery per chat
        self._turns = asyncio.Semaphore(TURNS_AT_ONCE)

    # --- life cycle -------------------------------------------------------------------

    def _make_bot(self) -> PTBBot:
        base = self.settings.api_base_url.rstrip("/")
        timeout = self.settings.request_timeout_seconds

        def request(pool: int) -> HTTPXRequest:
            return HTTPXRequest(
                connection_pool_size=pool,
                connect_timeout=timeout,
                read_timeout=timeout,
                write_timeout=timeout,
                pool_timeout=timeout,
            )

        return PTBBot(
            self.settings.token,
            base_url=f"{base}/bot{{token}}",
            base_file_url=f"{base}/file/bot{{token}}",
            request=request(32),
            get_updates_request=request(1),
        )

    async def start(self, dispatch: Dispatch) -> None:
        """Serve the webhook (if configured) and connect in the background; see ready."""
        _quiet_libraries()
        self._dispatch = dispatch
        self._stopping = False
        self.ready.clear()
        self.bot = self._make_bot()
        hook = self.settings.webhook
        if hook is not None:
            self.web = WebServer(hook.listen_host, hook.listen_port)
            self.web.add_post(urlsplit(hook.url).path or "/", self.webhook)
            await self.web.start()
        self._runner = asyncio.create_task(self._run(), name="telegram")

    async def _run(self) -> None:
        """Connect (retrying until Telegram answers), then poll or wait for webhook calls."""
        failures = 0
        while True:
            try:
                await self._connect()
                break
            except InvalidToken:
                logger.error("telegram rejected the bot token (telegram.token)")
            except TelegramError as error:
                logger.warning("telegram connect failed error=%s", type(error).__name__)
            await asyncio.sleep(min(2**failures, 60))
            failures += 1
        mode = "polling" if self.settings.webhook is None else "webhook"
        logger.info("telegram started mode=%s bot_id=%s", mode, self.bot_id)
        self.ready.set()
        if self.settings.webhook is None:
            await self._poll()

    async def _connect(self) -> None:
        """getMe, the commands menu, and setWebhook or deleteWebhook for the mode."""
        assert self.bot is not None
        await self.bot.initialize()
        self.bot_id = self.bot.bot.id
        self.username = self.bot.bot.username or ""
        await self._set_commands()
        hook = self.settings.webhook
        if hook is None:
            await self.bot.delete_webhook()
            return
        await self.bot.set_webhook(
            hook.url,
            secret_token=hook.secret_token,
            allowed_updates=ALLOWED_UPDATES,
            max_connections=hook.max_connections,
        )

    async def stop(self) -> None:
        """Stop polling or the webhook server and close the HTTP client (idempotent)."""
        self.ready.clear()
        self._stopping = True
        if self._runner is not None:
            await end_task(self._runner, STOP_GRACE_SECONDS, "telegram")
            self._runner = None
        if self._in_flight:
            _done, pending = await asyncio.wait(self._in_flight, timeout=STOP_GRACE_SECONDS)
            for task in pending:
                task.cancel()
        if self.web is not None:
            await self.web.stop()
            self.web = None
        if self.bot is not None:
            with contextlib.suppress(TelegramError, RuntimeError):
                await self.bot.shutdown()
            self.bot = None

    async def _set_commands(self) -> None:
        """The commands menu, per language and a default in the city's language.

        Everyone's commands only: a role's commands are in /help for those who hold it.
        """
        assert self.bot is not None
        for language in (*LANGUAGES, None):
            t = translator(language or self.default_language)
            commands = [
                BotCommand(name, t(key)[:256])
                for name, key in registry.commands_for(lambda _role: False)
                if name.isascii() and name.replace("_", "").isalnum() and len(name) <= 32
            ]
            try:
                await self.bot.set_my_commands(commands, language_code=language)
            except TelegramError as error:
                logger.warning(
                    "setMyCommands failed language=%s error=%s", language, type(error).__name__
                )

    def start_link(self, payload: str) -> str | None:
        """The t.me link that opens the private chat with the bot and sends /start payload."""
        return f"https://t.me/{self.username}?start={payload}" if self.username else None

    # --- receiving --------------------------------------------------------------------

    async def _poll(self) -> None:
        """Long polling: fetch, handle in the background (chats in parallel, each in order).

        The offset confirms an update to Telegram only once its turn and every earlier
        one are committed (bot/telegram/window.py), so a process killed at any moment gets
        the uncommitted updates again after a restart; updates fetched again while still in
        flight are not handled twice.
        """
        assert self.bot is not None
        window = UpdateWindow()
        failures = 0
        while not self._stopping:
            try:
                updates = await self.bot.get_updates(
                    offset=window.offset,
                    timeout=self.settings.poll_timeout_seconds,
                    allowed_updates=ALLOWED_UPDATES,
                )
                failures = 0
            except RetryAfter as error:
                await asyncio.sleep(retry_seconds(error))
                continue
            except Conflict:
                logger.warning("telegram getUpdates conflict: a webhook or another poller")
                await asyncio.sleep(min(2**failures, 30))
                failures += 1
                continue
            except (NetworkError, TelegramError) as error:
                logger.warning("telegram getUpdates failed error=%s", type(error).__name__)
                await asyncio.sleep(min(2**failures, 30))
                failures += 1
                continue
            fresh = window.fetched(updates)
            for update in fresh:
                self._track(asyncio.create_task(self._handle_polled(update, window)))
            if updates and not fresh:  # only updates in flight came back: wait for commits
                await window.passed(updates[len(updates) // 2].update_id, REPOLL_SECONDS)
            while len(self._in_flight) >= MAX_IN_FLIGHT:
                await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)

    async def _handle_polled(self, update: Update, window: UpdateWindow) -> None:
        """Handle a polled update; once its turn is committed the offset may pass it."""
        try:
            await self.process(update)
        finally:
            window.committed(update.update_id)

    def _track(self, task: asyncio.Task[None]) -> None:
        """Keep a background task until it ends (stop() waits for them)."""
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def webhook(self, request: web.Request) -> web.Response:
        """POST from Telegram: check the secret in constant time, commit the turn, answer 200.

        The replies go out afterwards (a background delivery, journaled in the outbox), so
        a flood of updates is answered as fast as turns commit, not as fast as Telegram's
        send limits allow.
        """
        hook = self.settings.webhook
        assert hook is not None
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, hook.secret_token.encode()):
            return web.Response(status=403)
        if request.content_type != "application/json":
            return web.Response(status=415)
        if self.bot is None or not self.ready.is_set():
            return web.Response(status=503)
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, self.bot)
        except Exception:  # not JSON, or not an Update
            return web.Response(status=400)
        if update is None:
            return web.Response(status=400)
        await self.process(update)
        return web.Response(status=200)

    def _lock(self, chat_id: str) -> asyncio.Lock:
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[chat_id] = lock
        return lock

    async def process(self, update: Update) -> asyncio.Future[None] | None:
        """Handle one update up to the commit of its turn; returns when its replies are sent.

        Updates of one chat are handled one after the other, and their replies delivered
        in that order by a background task (stop() waits for it). The returned future is
        done once the replies went out; the task then still awaits their acknowledgement.
        """
        incoming = to_incoming(update, self.username, self.bot_id)
        if incoming is None or self._dispatch is None:
            if update.callback_query is not None and self.bot is not None:
                with contextlib.suppress(TelegramError):
                    await self.bot.answer_callback_query(update.callback_query.id)
            return None
        METRICS.inc(
            "citybot_telegram_updates_total", "Telegram updates handled", kind=incoming.kind
        )
        if incoming.kind == "pre_checkout":  # not behind the chat's queue: 10 s to answer
            try:
                await self._pre_checkout(update, incoming)
            except Exception:
                logger.exception("telegram pre-checkout failed update=%s", update.update_id)
            return None
        lock = self._lock(incoming.chat_id)
        async with lock:
            try:
                if update.message is not None and update.message.photo and incoming.addressed:
                    image = await self._download_photo(update.message)
                    incoming = dataclasses.replace(incoming, image=image)
                if incoming.kind == "button":
                    await self._settle_button(update)
                async with self._turns:
                    replies = await self._dispatch(incoming)
            except Exception:
                logger.exception(
                    "telegram update failed update=%s kind=%s", update.update_id, incoming.kind
                )
                return None
            if not replies:
                return None
            return self._queue_delivery(incoming.chat_id, replies, group=incoming.is_group)

    def _queue_delivery(
        self, chat_id: str, replies: list[Reply], *, group: bool
    ) -> asyncio.Future[None]:
        """Deliver after the chat's previous delivery (and its acknowledgement) is done."""
        previous = self._deliveries.get(chat_id)
        sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(
            self._deliver_after(previous, chat_id, replies, group=group, sent=sent)
        )
        self._deliveries[chat_id] = task
        self._track(task)
        task.add_done_callback(partial(self._delivery_done, chat_id))
        return sent

    def _delivery_done(self, chat_id: str, task: asyncio.Task[None]) -> None:
        if self._deliveries.get(chat_id) is task:
            del self._deliveries[chat_id]

    async def _deliver_after(
        self,
        previous: asyncio.Task[None] | None,
        chat_id: str,
        replies: list[Reply],
        *,
        group: bool,
        sent: asyncio.Future[None] | None = None,
    ) -> None:
        """Send a turn's replies and acknowledge them; one chat's turns strictly in order.

        The next answer to a chat goes out only after this one's acknowledgement is
        committed, so a kill repeats at most one answer per chat. `sent` is done once the
        replies went out (or failed), before the acknowledgement.
        """
        try:
            if previous is not None:
                await asyncio.wait([previous])
            delivered = await self._deliver(chat_id, replies, group=group)
            if sent is not None and not sent.done():
                sent.set_result(None)
            if delivered:
                await acknowledge(replies)
        except Exception:
            logger.exception("telegram delivery failed")
        finally:
            if sent is not None and not sent.done():
                sent.set_result(None)

    async def _download_photo(self, message: Message) -> Attachment | None:
        """The largest size of a message's photo that fits MAX_PHOTO_BYTES (None if none does)."""
        assert self.bot is not None
        fitting = [p for p in message.photo if (p.file_size or 0) <= MAX_PHOTO_BYTES]
        if not fitting:
            return None
        largest = max(fitting, key=lambda p: p.width * p.height)
        try:
            file = await self.bot.get_file(largest.file_id)
            if (file.file_size or 0) > MAX_PHOTO_BYTES:
                return None
            content = bytes(await file.download_as_bytearray())
        except TelegramError as error:
            logger.warning("telegram photo download failed error=%s", type(error).__name__)
            return None
        return Attachment(f"photo-{message.message_id}.jpg", content, "image/jpeg")

    async def _settle_button(self, update: Update) -> None:
        """Answer the callback query and remove the pressed message's keyboard.

        On a list page only the pressed button goes: the other items' buttons stay usable.
        """
        assert self.bot is not None and update.callback_query is not None
        query = update.callback_query
        try:
            await self.bot.answer_callback_query(query.id)
        except TelegramError as error:
            logger.info("answerCallbackQuery failed error=%s", type(error).__name__)
        message = query.message
        if isinstance(message, Message) and message.reply_markup is not None:
            rest = None
            if is_list_page(message.reply_markup):
                rows = [
                    [b for b in row if b.callback_data != query.data]
                    for row in message.reply_markup.inline_keyboard
                ]
                rest = InlineKeyboardMarkup([row for row in rows if row]) if any(rows) else None
            try:
                await self.bot.edit_message_reply_markup(
                    chat_id=message.chat.id, message_id=message.message_id, reply_markup=rest
                )
            except TelegramError as error:
                logger.info("editMessageReplyMarkup failed error=%s", type(error).__name__)

    async def _pre_checkout(self, update: Update, incoming: Incoming) -> None:
        """Ask the invoice's handler and answer within Telegram's 10 seconds."""
        assert self.bot is not None and update.pre_checkout_query is not None
        assert self._dispatch is not None
        try:
            async with asyncio.timeout(PRE_CHECKOUT_SECONDS):
                replies = await self._dispatch(incoming)
        except TimeoutError:
            logger.warning(
                "pre-checkout timed out event=%s", log_ref(incoming.platform, incoming.event_id)
            )
            language = incoming.locale or self.default_language
            replies = [Reply(translator(language)("error.internal"))]
        refusal = next((r.text for r in replies if r.text), None)
        await self.bot.answer_pre_checkout_query(
            update.pre_checkout_query.id, ok=refusal is None, error_message=refusal
        )
        logger.info(
            "pre-checkout answered event=%s ok=%s",
            log_ref(incoming.platform, incoming.event_id),
            refusal is None,
        )

    # --- sending ----------------------------------------------------------------------

    async def _execute(self, call: Outgoing, chat_id: str, *, group: bool, direct: bool) -> None:
        """One message-sending call, after flood control."""
        assert self.bot is not None
        await self.flood.acquire(chat_id, group=group, direct=direct)
        try:
            await self._call(call, chat_id)
        except TelegramError as error:
            METRICS.inc(
                "citybot_telegram_errors_total",
                "Bot API calls that failed",
                method=call.method,
                error=type(error).__name__,
            )
            raise
        METRICS.inc("citybot_telegram_sent_total", "Messages sent to Telegram", method=call.method)

    async def _call(self, call: Outgoing, chat_id: str) -> None:
        """One call; the keyboard goes as the Bot API's JSON (render.keyboard), in api_kwargs."""
        assert self.bot is not None
        markup = keyboard(call.buttons, partial(buttons.sign, self.secret, chat_id))
        extra = {"reply_markup": markup} if markup is not None else None
        if call.method == "sendMessage":
            await self.bot.send_message(
                chat_id, call.text, parse_mode=ParseMode.HTML, api_kwargs=extra
            )
        elif call.method in ("sendPhoto", "sendDocument"):
            assert call.attachment is not None
            upload = InputFile(call.attachment.content, filename=call.attachment.filename)
            send = self.bot.send_photo if call.method == "sendPhoto" else self.bot.send_document
            await send(
                chat_id,
                upload,
                caption=call.text or None,
                parse_mode=ParseMode.HTML,
                api_kwargs=extra,
            )
        elif call.method == "sendVenue":
            venue = call.venue
            assert venue is not None
            await self.bot.send_venue(
                chat_id,
                latitude=venue.latitude,
                longitude=venue.longitude,
                title=venue.title,
                address=venue.address,
                api_kwargs=extra,
            )
        else:
            invoice = call.invoice
            assert invoice is not None
            await self.bot.send_invoice(
                chat_id,
                title=invoice.title[:32],
                description=invoice.description[:255],
                payload=invoice.payload,
                currency=invoice.currency,
                prices=[LabeledPrice(invoice.title[:32], invoice.amount_cents)],
                provider_token=self.settings.payments.provider_token,
            )

    async def _deliver(self, chat_id: str, replies: list[Reply], *, group: bool) -> bool:
        """Direct answers: retried on 429 (after retry_after) and network errors, else logged.

        True when every call went out or failed for good (nothing left to retry); False when
        temporary errors outlasted the attempts – then the outbox sends the journaled turn.
        """
        invoices = bool(self.settings.payments.provider_token)
        for call in plan_all(replies, invoices=invoices):
            for attempt in range(DIRECT_ATTEMPTS):
                try:
                    await self._execute(call, chat_id, group=group, direct=True)
                    break
                except RetryAfter as error:
                    self.flood.pause(retry_seconds(error))
                except Forbidden:
                    logger.warning("telegram refused direct answer method=%s", call.method)
                    return True
                except BadRequest:
                    logger.warning("telegram rejected method=%s", call.method)
                    break
                except (NetworkError, TelegramError) as error:
                    logger.warning(
                        "telegram send failed method=%s error=%s", call.method, type(error).__name__
                    )
                    await asyncio.sleep(0.5 * 2**attempt)
            else:
                return False
        return True

    async def send(self, recipient: str, replies: list[Reply], key: str = "") -> SendResult:
        """Send an outbox row; on a retry the calls already acknowledged are not repeated."""
        if self.bot is None or not self.ready.is_set():
            return SendResult.retry("temporary: transport not connected", 1)
        calls = plan_all(replies, invoices=bool(self.settings.payments.provider_token))
        done = self._progress.pop(key, 0) if key else 0
        group = recipient.startswith("-")
        for index in range(done, len(calls)):
            call = calls[index]
            try:
                await self._execute(call, recipient, group=group, direct=False)
            except RetryAfter as error:
                seconds = retry_seconds(error)
                self.flood.pause(seconds)
                self._remember(key, index)
                return SendResult.retry("temporary: 429", seconds)
            except Forbidden:
                return SendResult.failed("forbidden: blocked or deactivated", unreachable=True)
            except BadRequest as error:
                logger.warning("telegram rejected method=%s", call.method)
                gone = "chat not found" in str(error).lower()
                return SendResult.failed(f"bad request: {call.method}", unreachable=gone)
            except (NetworkError, TelegramError) as error:
                self._remember(key, index)
                return SendResult.retry(f"temporary: {type(error).__name__}")
        return SendResult.sent()

    def _remember(self, key: str, index: int) -> None:
        if key and index:
            self._progress[key] = index
            while len(self._progress) > MAX_TRACKED_KEYS:
                self._progress.pop(next(iter(self._progress)))
