"""A fake Telegram Bot API server on 127.0.0.1 for the methods citybot uses.

It follows the Bot API: `POST /bot<token>/<method>` with form, multipart or JSON parameters;
answers `{"ok": true, "result": ...}` or `{"ok": false, "error_code", "description"}` with the
HTTP status of the error; objects in Telegram's JSON shapes (dates in seconds, `is_bot`,
`chat_instance`, ...). `getUpdates` honours offset and the long-poll timeout and answers 409
while a webhook is set; a webhook gets each update POSTed with the secret header. Sending
methods are rate-limited when limits are set (429 with `parameters.retry_after`), blocked
users give 403, over-long or badly formed HTML gives 400.

Tests inject what users do (`say`, `press`, `pre_checkout`, `pay`, `photo_update`) and read
what the bot sent (`sent_to`, `wait_for`); `getFile` and `/file/bot<token>/<path>` serve the
photos users sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import aiohttp
from aiohttp import web

TOKEN = "123456:TEST-token-for-the-fake"
SENDING = {"sendMessage", "sendPhoto", "sendDocument", "sendInvoice", "sendVenue"}
JSON_FIELDS = {
    "chat_id",
    "message_id",
    "offset",
    "limit",
    "timeout",
    "reply_markup",
    "commands",
    "prices",
    "allowed_updates",
    "ok",
    "max_connections",
    "drop_pending_updates",
    "scope",
    "show_alert",
    "cache_time",
    "latitude",
    "longitude",
}
HTML_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "code", "pre", "blockquote", "tg-emoji",
}  # fmt: skip


class ApiError(Exception):
    """A Bot API error answer."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


class _HTMLChecker(HTMLParser):
    """Telegram's HTML rules: known tags, properly nested; collects the plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            raise ApiError(400, f"Bad Request: can't parse entities: unsupported start tag {tag!r}")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise ApiError(400, f"Bad Request: can't parse entities: unexpected end tag {tag!r}")
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(text: str) -> str:
    """The plain text of Telegram HTML, or ApiError 400 as Telegram would answer."""
    if re.search(r"<(?![a-zA-Z/])", text) or re.search(r"&(?!#?\w+;)", text):
        raise ApiError(400, "Bad Request: can't parse entities: unexpected character")
    checker = _HTMLChecker()
    checker.feed(text)
    checker.close()
    if checker.stack:
        raise ApiError(400, "Bad Request: can't parse entities: unclosed start tag")
    return "".join(checker.text)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Sent:
    """One message the bot sent (or edited), as the fake stored it."""

    method: str
    chat_id: int
    message: dict[str, Any]

    @property
    def text(self) -> str:
        """Text or caption."""
        return self.message.get("text") or self.message.get("caption") or ""

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of the current inline keyboard."""
        markup = self.message.get("reply_markup") or {}
        rows = markup.get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


@dataclass
class User:
    """A Telegram user the tests act as."""

    id: int
    first_name: str
    language_code: str = "de"

    def to_dict(self) -> dict[str, Any]:
        """Telegram's User object."""
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }


@dataclass
class FakeBotAPI:
    """The fake server; start() it, point the bot's api_base_url at .url."""

    token: str = TOKEN
    username: str = "citybot_test_bot"
    bot_id: int = 123456
    overall_per_second: int | None = None
    per_chat_per_second: int | None = None
    retry_after: int = 1
    url: str = ""
    blocked: set[int] = field(default_factory=set)
    sent: list[Sent] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)
    commands: dict[str | None, list[dict[str, str]]] = field(default_factory=dict)
    webhook: dict[str, Any] | None = None
    callback_answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    pre_checkout_answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    rejected_429: int = 0
    early_requests: int = 0
    errors: list[tuple[str, int]] = field(default_factory=list)
    webhook_statuses: list[int] = field(default_factory=list)
    fail_next: list[int | None] = field(default_factory=list)  # next sending calls; None: ok

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        self._update_ids = itertools.count(1000)
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1)
        )
        self._messages: dict[tuple[int, int], Sent] = {}
        self._invoice_payloads: dict[tuple[int, int], str] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._queries: dict[str, float] = {}
        self._ids = itertools.count(1)
        self._window: list[float] = []
        self._chat_windows: defaultdict[int, list[float]] = defaultdict(list)
        self._flood_until = 0.0
        self._poll_generation = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._files: dict[str, bytes] = {}  # file_id -> content of files users sent

    # --- server -----------------------------------------------------------------------

    async def start(self) -> str:
        """Listen on a free port of 127.0.0.1; returns the base URL (api_base_url)."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession()
        return self.url

    async def stop(self) -> None:
        """Stop listening (a waiting getUpdates returns at once)."""
        self._closing = True
        self._new_update.set()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.read()
            return json.loads(body) if body else {}
        form = await request.post()
        params: dict[str, Any] = {}
        for name, value in form.items():
            if isinstance(value, web.FileField):
                params[name] = {"filename": value.filename, "size": len(value.file.read())}
            elif name in JSON_FIELDS:
                try:
                    params[name] = json.loads(value)
                except ValueError:
                    params[name] = value
            else:
                params[name] = value
        for name, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                params[name] = params.pop(value.removeprefix("attach://"), value)
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        handler = getattr(self, f"api_{method}", None)
        if handler is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        try:
            params = await self._params(request)
            self.calls.append((method, params, time.monotonic()))
            if method in SENDING:
                self._flood_check(int(params.get("chat_id", 0)))
                status = self.fail_next.pop(0) if self.fail_next else None
                if status is not None:
                    self._fail(status)
            result = await handler(params)
        except ApiError as error:
            self.errors.append((method, error.code))
            body: dict[str, Any] = {
                "ok": False,
                "error_code": error.code,
                "description": error.description,
            }
            if error.retry_after is not None:
                body["parameters"] = {"retry_after": error.retry_after}
            return web.json_response(body, status=error.code)
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        """GET /file/bot<token>/<file_path>: the content of a file a user sent."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        self.calls.append(("download", {"path": request.match_info["path"]}, time.monotonic()))
        file_id = request.match_info["path"].rpartition("/")[2]
        content = self._files.get(file_id)
        if content is None:
            return web.Response(status=404)
        return web.Response(body=content, content_type="application/octet-stream")

    def _fail(self, status: int) -> None:
        if status == 429:
            self._flood_until = time.monotonic() + self.retry_after
            raise ApiError(
                429, f"Too Many Requests: retry after {self.retry_after}", self.retry_after
            )
        descriptions = {
            400: "Bad Request: message text is empty",
            403: "Forbidden: user is deactivated",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }
        raise ApiError(status, descriptions.get(status, "Error"))

    def _flood_check(self, chat_id: int) -> None:
        now = time.monotonic()
        if now < self._flood_until:
            self.early_requests += 1
            self.rejected_429 += 1
            left = max(1, round(self._flood_until - now))
            raise ApiError(429, f"Too Many Requests: retry after {left}", left)
        self._window = [t for t in self._window if now - t < 1.0]
        chat_window = self._chat_windows[chat_id] = [
            t for t in self._chat_windows[chat_id] if now - t < 1.0
        ]
        over = (
            self.overall_per_second is not None and len(self._window) >= self.overall_per_second
        ) or (self.per_chat_per_second is not None and len(chat_window) >= self.per_chat_per_second)
        if over:
            self.rejected_429 += 1
            self._flood_until = now + self.retry_after
            raise ApiError(
                429, f"Too Many Requests: retry after {self.retry_after}", self.retry_after
            )
        self._window.append(now)
        chat_window.append(now)

    # --- objects ----------------------------------------------------------------------

    def bot_user(self) -> dict[str, Any]:
        """The bot as a Telegram User."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "citybot",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def private_chat(self, user: User) -> dict[str, Any]:
        """The private chat with a user (known to the fake from then on)."""
        chat = {"id": user.id, "first_name": user.first_name, "type": "private"}
        self._chats[user.id] = chat
        return chat

    def group_chat(self, chat_id: int, title: str = "Elternbeirat") -> dict[str, Any]:
        """A supergroup the bot is a member of."""
        chat = {"id": chat_id, "title": title, "type": "supergroup"}
        self._chats[chat_id] = chat
        return chat

    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int) or chat_id not in self._chats:
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return self._chats[chat_id]

    def _markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed")
        return markup

    def _text(self, params: dict[str, Any], name: str, limit: int, required: bool) -> str:
        raw = params.get(name) or ""
        if not raw:
            if required:
                raise ApiError(400, "Bad Request: message text is empty")
            return ""
        text = parse_html(raw) if params.get("parse_mode") == "HTML" else raw
        if utf16_len(text) > limit:
            what = "message is too long" if name == "text" else "message caption is too long"
            raise ApiError(400, f"Bad Request: {what}")
        if required and not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        return text

    def _store(self, method: str, chat: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        message = {
            "message_id": next(self._message_ids[chat["id"]]),
            "from": self.bot_user(),
            "chat": chat,
            "date": int(time.time()),
            **{k: v for k, v in fields.items() if v not in (None, "")},
        }
        sent = Sent(method, chat["id"], message)
        self.sent.append(sent)
        self._messages[(chat["id"], message["message_id"])] = sent
        return message

    # --- methods ----------------------------------------------------------------------

    async def api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user()

    async def api_setMyCommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be a list of at most 100")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[params.get("language_code") or None] = commands
        return True

    async def api_setWebhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url", "")
        if not url:
            return await self.api_deleteWebhook(params)
        secret = params.get("secret_token", "")
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = {"url": url, "secret_token": secret}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._poll_generation += 1
        self._new_update.set()
        return True

    async def api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._poll_generation += 1
        generation = self._poll_generation
        self._new_update.set()  # a waiting older request ends (and gets 409)
        offset = int(params.get("offset") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        await asyncio.sleep(0)
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            if self._updates or self._closing:
                return self._updates[:limit]
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), left)
            except TimeoutError:
                return []

    async def api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        text = self._text(params, "text", 4096, required=True)
        return self._store(
            "sendMessage", chat, {"text": text, "reply_markup": self._markup(params)}
        )

    def _upload(self, params: dict[str, Any], name: str) -> dict[str, Any]:
        upload = params.get(name)
        if not isinstance(upload, dict) or not upload.get("size"):
            raise ApiError(400, f"Bad Request: there is no {name} in the request")
        return upload

    async def api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        upload = self._upload(params, "photo")
        caption = self._text(params, "caption", 1024, required=False)
        file_id = f"photo{next(self._ids)}"
        photo = [
            {
                "file_id": file_id,
                "file_unique_id": file_id,
                "width": 320,
                "height": 320,
                "file_size": upload["size"],
            }
        ]
        fields = {"photo": photo, "caption": caption, "reply_markup": self._markup(params)}
        return self._store("sendPhoto", chat, fields)

    async def api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        upload = self._upload(params, "document")
        caption = self._text(params, "caption", 1024, required=False)
        file_id = f"doc{next(self._ids)}"
        document = {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_name": upload["filename"],
            "file_size": upload["size"],
        }
        fields = {"document": document, "caption": caption, "reply_markup": self._markup(params)}
        return self._store("sendDocument", chat, fields)

    async def api_sendVenue(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        try:
            latitude, longitude = float(params["latitude"]), float(params["longitude"])
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "Bad Request: wrong latitude or longitude") from None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ApiError(400, "Bad Request: wrong latitude or longitude")
        title, address = params.get("title") or "", params.get("address") or ""
        if not title or not address:
            raise ApiError(400, "Bad Request: venue title and address must be non-empty")
        venue = {
            "location": {"latitude": latitude, "longitude": longitude},
            "title": title,
            "address": address,
        }
        fields = {"venue": venue, "reply_markup": self._markup(params)}
        return self._store("sendVenue", chat, fields)

    async def api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params.get("file_id", "")
        content = self._files.get(file_id)
        if content is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(content) > 20 * 1024 * 1024:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(content),
            "file_path": f"photos/{file_id}",
        }

    async def api_sendInvoice(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        title, description = params.get("title", ""), params.get("description", "")
        payload, currency = params.get("payload", ""), params.get("currency", "")
        if not 1 <= len(title) <= 32 or not 1 <= len(description) <= 255:
            raise ApiError(400, "Bad Request: invoice title or description invalid")
        if not 1 <= len(payload.encode()) <= 128:
            raise ApiError(400, "Bad Request: INVOICE_PAYLOAD_INVALID")
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise ApiError(400, "Bad Request: CURRENCY_INVALID")
        if currency != "XTR" and not params.get("provider_token"):
            raise ApiError(400, "Bad Request: PAYMENT_PROVIDER_INVALID")
        prices = params.get("prices") or []
        total = sum(int(p["amount"]) for p in prices)
        if not prices or total <= 0:
            raise ApiError(400, "Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID")
        invoice = {
            "title": title,
            "description": description,
            "start_parameter": params.get("start_parameter", ""),
            "currency": currency,
            "total_amount": total,
        }
        message = self._store("sendInvoice", chat, {"invoice": invoice})
        self._invoice_payloads[(chat["id"], message["message_id"])] = payload
        return message

    async def api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        sent = self._messages.get((chat["id"], int(params.get("message_id") or 0)))
        if sent is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        markup = self._markup(params)
        if markup == sent.message.get("reply_markup") or (
            markup is None and "reply_markup" not in sent.message
        ):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        if markup is None:
            sent.message.pop("reply_markup", None)
        else:
            sent.message["reply_markup"] = markup
        sent.message["edit_date"] = int(time.time())
        return sent.message

    async def api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        query_id = params.get("callback_query_id", "")
        asked = self._queries.pop(query_id, None)
        if asked is None or query_id in self.callback_answers:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.callback_answers[query_id] = {**params, "after": time.monotonic() - asked}
        return True

    async def api_answerPreCheckoutQuery(self, params: dict[str, Any]) -> bool:
        query_id = params.get("pre_checkout_query_id", "")
        asked = self._queries.pop(query_id, None)
        if asked is None or time.monotonic() - asked > 10:
            raise ApiError(400, "Bad Request: QUERY_ID_INVALID")
        ok = params.get("ok")
        if ok is False and not params.get("error_message"):
            raise ApiError(400, "Bad Request: ERROR_MESSAGE_EMPTY")
        self.pre_checkout_answers[query_id] = {**params, "after": time.monotonic() - asked}
        return True

    # --- what users do ------------------------------------------------------------------

    async def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Deliver an update: POST it to the webhook, or queue it for getUpdates."""
        update.setdefault("update_id", next(self._update_ids))
        if self.webhook is None:
            self._updates.append(update)
            self._new_update.set()
            return update
        assert self._session is not None
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.webhook["secret_token"]:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
        async with self._session.post(
            self.webhook["url"], data=json.dumps(update), headers=headers
        ) as response:
            self.webhook_statuses.append(response.status)
        return update

    def message_update(
        self, user: User, text: str, chat: dict[str, Any] | None = None, **extra: Any
    ) -> dict[str, Any]:
        """A message update from user (in their private chat unless chat is given)."""
        chat = chat or self.private_chat(user)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids[chat["id"]]),
            "from": user.to_dict(),
            "chat": chat,
            "date": int(time.time()),
            **extra,
        }
        if text:
            message["text"] = text
            entities = []
            command = re.match(r"/[A-Za-z0-9_]+(@\w+)?", text)
            if command:
                entities.append({"offset": 0, "length": command.end(), "type": "bot_command"})
            for mention in re.finditer(r"@\w+", text):
                if not command or mention.start() >= command.end():
                    entities.append(
                        {
                            "offset": utf16_len(text[: mention.start()]),
                            "length": utf16_len(mention.group()),
                            "type": "mention",
                        }
                    )
            if entities:
                message["entities"] = entities
        return {"message": message}

    def photo_update(
        self, user: User, content: bytes, caption: str = "", chat: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A photo message: Telegram's sizes (a thumbnail and the full photo), maybe a caption."""
        sizes = []
        for width, part in ((90, content[: max(1, len(content) // 10)]), (1280, content)):
            file_id = f"AgAC{next(self._ids)}"
            self._files[file_id] = part
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": f"u{file_id}",
                    "width": width,
                    "height": width * 3 // 4,
                    "file_size": len(part),
                }
            )
        extra: dict[str, Any] = {"photo": sizes}
        if caption:
            extra["caption"] = caption
        return self.message_update(user, "", chat, **extra)

    async def say(
        self, user: User, text: str, chat: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The user writes text (a /command gets its bot_command entity)."""
        return await self.push(self.message_update(user, text, chat))

    async def press(self, user: User, sent: Sent, label: str) -> dict[str, Any]:
        """The user taps a button of a message (as the app shows it now)."""
        data = dict(sent.buttons).get(label)
        if data is None:
            raise AssertionError(f"no button {label!r} on the message: {sent.buttons}")
        return await self.push(self.callback_update(user, sent, data))

    def callback_update(self, user: User, sent: Sent, data: str) -> dict[str, Any]:
        """A callback_query update for a bot message (even one whose keyboard is gone)."""
        query_id = str(next(self._ids) * 7919)
        self._queries[query_id] = time.monotonic()
        message = dict(sent.message)
        return {
            "callback_query": {
                "id": query_id,
                "from": user.to_dict(),
                "message": message,
                "chat_instance": f"-{sent.chat_id * 31 % 10**9}",
                "data": data,
            }
        }

    async def pre_checkout(self, user: User, invoice: Sent) -> str:
        """The user taps Pay: a pre_checkout_query; returns its id."""
        query_id = str(next(self._ids) * 104729)
        self._queries[query_id] = time.monotonic()
        details = invoice.message["invoice"]
        await self.push(
            {
                "pre_checkout_query": {
                    "id": query_id,
                    "from": user.to_dict(),
                    "currency": details["currency"],
                    "total_amount": details["total_amount"],
                    "invoice_payload": self.invoice_payload(invoice),
                }
            }
        )
        return query_id

    def invoice_payload(self, invoice: Sent) -> str:
        """The (bot-private) payload of an invoice the bot sent."""
        return self._invoice_payloads[(invoice.chat_id, invoice.message["message_id"])]

    def payment_update(self, user: User, invoice: Sent, charge_id: str) -> dict[str, Any]:
        """The successful_payment service message after the user paid."""
        details = invoice.message["invoice"]
        return self.message_update(
            user,
            "",
            successful_payment={
                "currency": details["currency"],
                "total_amount": details["total_amount"],
                "invoice_payload": self.invoice_payload(invoice),
                "telegram_payment_charge_id": charge_id,
                "provider_payment_charge_id": f"provider-{charge_id}",
            },
        )

    # --- what the bot did -------------------------------------------------------------

    def sent_to(self, chat_id: int) -> list[Sent]:
        """Messages the bot sent to a chat, oldest first."""
        return [s for s in self.sent if s.chat_id == chat_id]

    def methods(self, name: str) -> list[dict[str, Any]]:
        """Parameters of every call of a method."""
        return [params for method, params, _ in self.calls if method == name]

    async def wait_for(self, predicate: Any, timeout: float = 10) -> bool:
        """Wait until predicate() holds; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            await asyncio.sleep(0.02)
        return bool(predicate())

    async def quiet(self, seconds: float = 0.3) -> None:
        """Wait until nothing was called for a while (the bot has finished a turn)."""

        def count() -> int:
            return sum(method != "getUpdates" for method, _, _ in self.calls)

        last = count()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            await asyncio.sleep(seconds)
            if count() == last:
                return
            last = count()
