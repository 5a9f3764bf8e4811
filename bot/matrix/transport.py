"""Matrix transport: one nio client, a sync loop (leader only), replies as m.notice events.

Login happens once with the password; the access token, device id and sync token are kept in
`store_path/session.json` beside nio's crypto store, so a restart reuses the device and its
keys and continues after the last handled sync. With encryption on (the default) the crypto
store must load, or the transport refuses to start: it never sends plaintext into an
encrypted room.

```mermaid
stateDiagram-v2
    [*] --> LoggingIn: no stored session
    [*] --> Syncing: stored session + crypto store loaded
    LoggingIn --> Syncing: login ok, session saved
    Syncing --> Syncing: sync, keys, invites, timelines, retry undecryptable
    Syncing --> Backoff: homeserver unreachable / 5xx / M_LIMIT_EXCEEDED
    Backoff --> Syncing: after 0.5 s .. 60 s
    Syncing --> LoggingIn: token rejected
```
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import os
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import ClientError
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    InviteMemberEvent,
    LocalProtocolError,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    RoomEncryptedImage,
    RoomMemberEvent,
    RoomMessageImage,
    RoomMessageText,
    RoomSendResponse,
    SyncError,
    SyncResponse,
    UploadResponse,
)
from nio.crypto import ENCRYPTION_ENABLED
from nio.crypto.attachments import decrypt_attachment
from nio.exceptions import EncryptionError, OlmUnverifiedDeviceError

from bot.config import MatrixConfig
from bot.dispatcher import acknowledge
from bot.i18n import translator
from bot.keys import log_ref
from bot.matrix import render
from bot.matrix.session import Session
from bot.matrix.session import forget as forget_session
from bot.matrix.session import load as load_session
from bot.matrix.session import save as save_session
from bot.messages import Attachment, Incoming, Reply
from bot.transport import Dispatch, SendResult, TransportStartError
from bot.waiting import end_task, wait_event

logger = logging.getLogger(__name__)
PLATFORM = "matrix"
NETWORK_ERRORS = (ClientError, TimeoutError, asyncio.TimeoutError, OSError)
REPLY_FALLBACK = re.compile(r"^(> .*\n)+\n", re.MULTILINE)
MAX_IMAGE_BYTES = 5 * 1024 * 1024  # larger images are not downloaded


class MatrixStartError(TransportStartError):
    """The transport cannot start safely (crypto store missing or unreadable, no e2e support)."""


class TokenRejected(Exception):
    """The homeserver no longer accepts the stored access token."""


class Stopping(Exception):
    """The transport stops while a reply still waits to be sent: the batch is not finished."""


class SyncFailed(Exception):
    """A sync answered with an error; retry_after is the server's wish in seconds, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Undecryptable:
    """An event whose room key has not arrived yet."""

    room_id: str
    event: MegolmEvent
    first_seen: float


class MatrixTransport:
    """Receives through /sync (leader only) and sends replies and outbox rows to rooms."""

    name = PLATFORM
    leader_only = True

    def __init__(self, settings: MatrixConfig, store_dir: Path, language: str = "de") -> None:
        self.settings = settings
        self.store_dir = store_dir
        self.language = language
        self.backoff_start = 0.5
        self.backoff_max = 60.0
        self.client: AsyncClient | None = None
        self.dispatch: Dispatch | None = None
        self.since: str | None = None
        self.synced_once = False
        self.pending: dict[str, Undecryptable] = {}
        self.noted_rooms: set[str] = set()
        self.stop_grace = 10.0
        self.handling = False
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.check()

    # ------------------------------------------------------------------ start and stop

    def check(self) -> None:
        """Refuse early what cannot work: e2e without its libraries, an unusable store."""
        if self.settings.encryption and not ENCRYPTION_ENABLED:
            raise MatrixStartError(
                "matrix.encryption is on but the crypto libraries are missing "
                "(install matrix-nio[e2e])"
            )
        try:
            self.store_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            raise MatrixStartError(f"matrix.store_path: cannot create {self.store_dir}") from error
        if not os.access(self.store_dir, os.W_OK):
            raise MatrixStartError(f"matrix.store_path: {self.store_dir} is not writable")
        stored = self._stored_session()
        if stored is not None and self.settings.encryption:
            database = self.store_dir / f"{stored.user_id}_{stored.device_id}.db"
            if not database.exists():
                raise MatrixStartError(
                    f"matrix.store_path: the crypto store of device {stored.device_id} is "
                    f"missing ({database.name}); restore it from the backup, or delete "
                    "session.json to log in as a new device"
                )
            if not _has_account(database, stored):
                raise MatrixStartError(
                    f"matrix.store_path: the crypto store {database.name} holds no keys for "
                    f"device {stored.device_id}; restore it from the backup, or delete "
                    "session.json to log in as a new device"
                )
            probe = self._new_client()
            try:
                self._restore(probe, stored)
            finally:
                _close_store(probe)

    def _stored_session(self) -> Session | None:
        stored = load_session(self.store_dir)
        if stored is None:
            return None
        if stored.user_id != self.settings.user_id or stored.homeserver != self.homeserver:
            logger.warning("stored matrix session is for another account; logging in again")
            return None
        return stored

    @property
    def homeserver(self) -> str:
        """The homeserver URL without a trailing slash."""
        return self.settings.homeserver.rstrip("/")

    def _new_client(self) -> AsyncClient:
        config = AsyncClientConfig(
            max_limit_exceeded=0,
            max_timeouts=0,
            request_timeout=self.settings.request_timeout_seconds,
            encryption_enabled=self.settings.encryption,
            store_sync_tokens=False,
        )
        return AsyncClient(
            self.homeserver,
            self.settings.user_id,
            store_path=str(self.store_dir),
            config=config,
        )

    def _require_crypto(self, client: AsyncClient) -> None:
        if self.settings.encryption and client.olm is None:
            raise MatrixStartError("matrix: the crypto store could not be loaded")

    def _restore(self, client: AsyncClient, stored: Session) -> None:
        try:
            client.restore_login(stored.user_id, stored.device_id, stored.access_token)
        except Exception as error:
            raise MatrixStartError(
                f"matrix: the crypto store could not be loaded: {type(error).__name__}"
            ) from None
        self._require_crypto(client)
        self.since = stored.next_batch or None

    async def start(self, dispatch: Dispatch) -> None:
        """Load the stored login and crypto store, then sync in the background."""
        self.dispatch = dispatch
        self._stop = asyncio.Event()
        self.synced_once = False
        self.since = None
        client = self._new_client()
        stored = self._stored_session()
        if stored is not None:
            self._restore(client, stored)
            logger.info("matrix session restored device=%s", stored.device_id)
        self.client = client
        self._tasks = [
            asyncio.create_task(self._sync_forever(), name="matrix-sync"),
        ]

    async def stop(self) -> None:
        """Stop syncing and sending; the session and crypto store stay for the next start."""
        self._stop.set()
        for task in self._tasks:
            if self.handling:  # let the batch in hand finish, so its token is saved
                await asyncio.wait({task}, timeout=self.stop_grace)
        for task in self._tasks:
            await end_task(task, self.stop_grace, task.get_name())
        self._tasks = []
        if self.client is not None:
            await self.client.close()
            _close_store(self.client)
            self.client = None

    @property
    def logged_in(self) -> bool:
        """Whether the client has an access token (restored or from a login)."""
        return self.client is not None and bool(self.client.access_token)

    # ------------------------------------------------------------------ the sync loop

    async def _sleep(self, seconds: float) -> None:
        await wait_event(self._stop, seconds)

    async def _sync_forever(self) -> None:
        backoff = self.backoff_start
        while not self._stop.is_set():
            try:
                if not self.logged_in:
                    await self._login()
                await self._sync_once()
                backoff = self.backoff_start
                continue
            except Stopping:
                return
            except MatrixStartError:
                logger.critical("matrix stopped: the crypto store could not be loaded")
                return
            except TokenRejected:
                logger.warning("matrix access token rejected; logging in as a new device")
                forget_session(self.store_dir)
                await self._replace_client()
                delay = backoff
            except SyncFailed as error:
                logger.warning("matrix sync failed: %s", error)
                delay = error.retry_after or backoff
            except NETWORK_ERRORS as error:
                logger.warning("matrix homeserver unreachable: %s", type(error).__name__)
                delay = backoff
            except Exception:
                logger.exception("matrix sync loop error")
                delay = backoff
            backoff = min(backoff * 2, self.backoff_max)
            await self._sleep(delay)

    async def _replace_client(self) -> None:
        if self.client is not None:
            await self.client.close()
            _close_store(self.client)
        self.client = self._new_client()
        self.synced_once = False  # the sync token stays: nothing in between is lost

    async def _login(self) -> None:
        assert self.client is not None
        response = await self.client.login(
            self.settings.password, device_name=self.settings.device_name
        )
        if not isinstance(response, LoginResponse):
            raise SyncFailed(
                f"login failed: {getattr(response, 'status_code', '')}",
                _retry_after(response),
            )
        self._require_crypto(self.client)
        save_session(
            self.store_dir,
            Session(
                self.homeserver,
                response.user_id,
                response.device_id,
                response.access_token,
                self.since or "",
            ),
        )
        logger.info("matrix logged in device=%s", response.device_id)

    def _sync_timeout_ms(self) -> int:
        timeout = self.settings.sync_timeout_seconds
        if self.pending:
            oldest = min(p.first_seen for p in self.pending.values())
            due = oldest + self.settings.undecryptable_grace_seconds - time.monotonic()
            timeout = min(timeout, max(due, 0.2))
        return max(int(timeout * 1000), 1)

    async def _sync_once(self) -> None:
        client = self.client
        assert client is not None
        first = self.since is None
        # nio skips a response whose token it has seen; a batch not finished is fetched again
        client.next_batch = self.since
        response = await client.sync(
            timeout=0 if first else self._sync_timeout_ms(),
            since=self.since,
            full_state=not self.synced_once,
        )
        if isinstance(response, SyncError) or not isinstance(response, SyncResponse):
            code = getattr(response, "status_code", "")
            if code == "M_UNKNOWN_TOKEN":
                raise TokenRejected()
            raise SyncFailed(f"sync error {code}", _retry_after(response))
        self.synced_once = True
        self.handling = True
        try:
            await self._keys()
            await self._invites(response)
            if not first:
                await self._timelines(response)
            await self._retry_undecryptable()
            await self._leave_empty_rooms(response)
        finally:
            self.handling = False
        self.since = response.next_batch
        save_session(
            self.store_dir,
            Session(
                self.homeserver,
                client.user_id,
                client.device_id or "",
                client.access_token,
                response.next_batch,
            ),
        )

    async def _keys(self) -> None:
        """Upload our keys, track the devices of room members, claim one-time keys."""
        client = self.client
        assert client is not None
        if client.olm is None:
            return
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()

    # ------------------------------------------------------------------ rooms

    def _allowed(self, user_id: str) -> bool:
        allowed = self.settings.allowed_servers
        return not allowed or user_id.partition(":")[2] in allowed

    async def _invites(self, response: SyncResponse) -> None:
        client = self.client
        assert client is not None
        for room_id, info in response.rooms.invite.items():
            inviter = next(
                (
                    e.sender
                    for e in info.invite_state
                    if isinstance(e, InviteMemberEvent)
                    and e.state_key == client.user_id
                    and e.membership == "invite"
                ),
                "",
            )
            if inviter and self._allowed(inviter):
                answer = await client.join(room_id)
                logger.info("matrix invite room=%s joined=%s", log_ref(room_id), _ok(answer))
            else:
                await client.room_leave(room_id)
                logger.info("matrix invite refused room=%s", log_ref(room_id))

    async def _leave_empty_rooms(self, response: SyncResponse) -> None:
        client = self.client
        assert client is not None
        for room_id in response.rooms.join:
            room = client.rooms.get(room_id)
            if room is None or room.member_count > 1:
                continue
            if set(room.users) - {client.user_id}:
                continue
            await client.room_leave(room_id)
            await client.room_forget(room_id)
            client.rooms.pop(room_id, None)
            logger.info("matrix left empty room=%s", log_ref(room_id))

    # ------------------------------------------------------------------ incoming events

    async def _timelines(self, response: SyncResponse) -> None:
        client = self.client
        assert client is not None
        for room_id, info in response.rooms.join.items():
            room = client.rooms.get(room_id)
            if room is None:
                continue
            events = info.timeline.events
            start = 0
            for index, event in enumerate(events):
                if (
                    isinstance(event, RoomMemberEvent)
                    and event.state_key == client.user_id
                    and event.membership == "join"
                    and event.prev_membership != "join"
                ):
                    start = index + 1  # what came before the bot joined is not for it
            for event in events[start:]:
                await self._on_event(room, event)

    async def _on_event(self, room: MatrixRoom, event: Any) -> None:
        assert self.client is not None
        if getattr(event, "sender", None) == self.client.user_id:
            return
        if isinstance(event, MegolmEvent):
            await self._undecryptable(room, event)
        elif isinstance(event, RoomMessageText):
            await self._on_text(room, event)
        elif isinstance(event, RoomMessageImage | RoomEncryptedImage):
            await self._on_image(room, event)

    async def _undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        assert self.client is not None
        logger.info(
            "matrix undecryptable room=%s event=%s",
            log_ref(room.room_id),
            log_ref(PLATFORM, event.event_id),
        )
        if self.client.olm is None:
            return
        self.pending[event.event_id] = Undecryptable(room.room_id, event, time.monotonic())
        if event.session_id not in self.client.outgoing_key_requests:
            with contextlib.suppress(LocalProtocolError, *NETWORK_ERRORS):
                await self.client.request_room_key(event)

    async def _retry_undecryptable(self) -> None:
        client = self.client
        assert client is not None
        for event_id, waiting in list(self.pending.items()):
            room = client.rooms.get(waiting.room_id)
            if room is None:
                del self.pending[event_id]
                continue
            try:
                decrypted = client.decrypt_event(waiting.event)
            except (EncryptionError, LocalProtocolError):
                waited = time.monotonic() - waiting.first_seen
                if waited >= self.settings.undecryptable_grace_seconds:
                    del self.pending[event_id]
                    if room.room_id not in self.noted_rooms:
                        self.noted_rooms.add(room.room_id)
                        note = Reply(translator(self.language)("matrix.undecryptable"))
                        await self.deliver(room.room_id, [note], f"utd-{event_id}")
                    logger.warning(
                        "matrix gave up decrypting event=%s", log_ref(PLATFORM, event_id)
                    )
                continue
            del self.pending[event_id]
            logger.info("matrix decrypted late event=%s", log_ref(PLATFORM, event_id))
            await self._on_event(room, decrypted)

    def _names(self, room: MatrixRoom) -> list[str]:
        assert self.client is not None
        own = self.client.user_id
        names = [own, own[1:].partition(":")[0]]
        display = room.user_name(own)
        if display:
            names.insert(0, display)
        return [n for n in names if n]

    def _addressed(self, room: MatrixRoom, event: RoomMessageText, text: str) -> tuple[bool, str]:
        """Whether a group message is meant for the bot, and its text without the mention."""
        assert self.client is not None
        own = self.client.user_id
        prefix = self.settings.command_prefix
        if prefix and text.lower().startswith(prefix.lower()):
            return True, text[len(prefix) :].strip()
        for name in self._names(room):
            pattern = rf"\s*{re.escape(name)}(?:\s*[:,]\s*|\s+|$)"
            match = re.match(pattern, text, re.IGNORECASE)
            if match:
                return True, text[match.end() :].strip()
        content = event.source.get("content", {})
        mentions = content.get("m.mentions", {})
        if isinstance(mentions, dict) and own in mentions.get("user_ids", []):
            return True, text
        formatted = event.formatted_body or ""
        if f"matrix.to/#/{own}" in formatted:
            return True, text
        lowered = text.lower()
        return any(name.lower() in lowered for name in self._names(room)), text

    def incoming(self, room: MatrixRoom, event: RoomMessageText) -> Incoming | None:
        """A text event as an Incoming; None for an edit or a group message not for the bot."""
        relation = event.source.get("content", {}).get("m.relates_to") or {}
        if isinstance(relation, dict) and relation.get("rel_type") == "m.replace":
            return None  # an edit of an earlier message: that one was answered already
        text = REPLY_FALLBACK.sub("", event.body or "", count=1).strip()
        group = room.member_count > 2
        if group:
            addressed, text = self._addressed(room, event, text)
            if not addressed:
                return None
        else:
            prefix = self.settings.command_prefix
            if prefix and text.lower().startswith(prefix.lower()):
                text = text[len(prefix) :].strip()
        if not text:
            text = "/help"
        kind = "command" if text.startswith(("/", "!")) else "text"
        return Incoming(
            platform=PLATFORM,
            chat_id=room.room_id,
            user_id=event.sender,
            event_id=event.event_id,
            kind=kind,
            text=text,
            locale=None,
            display_name=room.user_name(event.sender),
            is_group=group,
            addressed=True,
        )

    async def _on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        incoming = self.incoming(room, event)
        if incoming is None or self.dispatch is None:
            return
        self.noted_rooms.discard(room.room_id)  # readable again: a later failure gets a note
        logger.info(
            "matrix event room=%s event=%s",
            log_ref(room.room_id),
            log_ref(PLATFORM, event.event_id),
        )
        replies = await self.dispatch(incoming)
        if replies:
            await self.deliver(room.room_id, replies, f"reply-{event.event_id}")
            await acknowledge(replies)

    async def _on_image(
        self, room: MatrixRoom, event: RoomMessageImage | RoomEncryptedImage
    ) -> None:
        """An m.image in a direct chat: downloaded (and decrypted) into Incoming.image."""
        if self.dispatch is None or room.member_count > 2:
            return  # in groups an image cannot be addressed to the bot
        image = await self.download_image(event)
        incoming = Incoming(
            platform=PLATFORM,
            chat_id=room.room_id,
            user_id=event.sender,
            event_id=event.event_id,
            text="",
            display_name=room.user_name(event.sender),
            image=image,
        )
        logger.info(
            "matrix image room=%s event=%s", log_ref(room.room_id), log_ref(event.event_id)
        )
        replies = await self.dispatch(incoming)
        if replies:
            await self.deliver(room.room_id, replies, f"reply-{event.event_id}")
            await acknowledge(replies)

    async def download_image(
        self, event: RoomMessageImage | RoomEncryptedImage
    ) -> Attachment | None:
        """The image of an m.image event, decrypted if encrypted; None if too large or failing."""
        assert self.client is not None
        info = event.source.get("content", {}).get("info") or {}
        if int(info.get("size") or 0) > MAX_IMAGE_BYTES:
            return None
        try:
            answer = await self.client.download(mxc=event.url)
        except NETWORK_ERRORS:
            return None
        body = getattr(answer, "body", None)
        if not isinstance(body, bytes) or len(body) > MAX_IMAGE_BYTES:
            return None
        mime = str(info.get("mimetype") or getattr(answer, "content_type", "") or "image/jpeg")
        if isinstance(event, RoomEncryptedImage):
            try:
                body = decrypt_attachment(body, event.key["k"], event.hashes["sha256"], event.iv)
            except (EncryptionError, KeyError, ValueError):
                logger.warning("matrix image not decryptable event=%s", event.event_id)
                return None
            mime = event.mimetype or mime
        return Attachment(event.body or "image", body, mime.split(";")[0])

    # ------------------------------------------------------------------ sending

    async def deliver(self, room_id: str, replies: list[Reply], key: str) -> SendResult:
        """Send direct replies before reading on; temporary failures are retried with backoff.

        The sync token is saved only after a batch's replies went out, so a crash loses at
        most the replies of the turn in flight.
        """
        backoff = self.backoff_start
        while True:
            result = await self._send_safely(room_id, replies, key)
            if result.status == "failed":
                logger.warning("matrix reply failed room=%s: %s", log_ref(room_id), result.error)
            if result.status != "retry":
                return result
            if self._stop.is_set():
                raise Stopping()
            await self._sleep(result.retry_after or backoff)
            backoff = min(backoff * 2, self.backoff_max)

    async def _send_safely(self, recipient: str, replies: list[Reply], key: str) -> SendResult:
        try:
            return await self.send(recipient, replies, key)
        except Exception as error:
            logger.exception("matrix send raised")
            return SendResult.retry(f"temporary: {type(error).__name__}")

    def room_for(self, recipient: str) -> str | None:
        """The room to send to: a room id as is; for a user id, the direct room with them."""
        client = self.client
        assert client is not None
        if recipient.startswith("!"):
            return recipient if recipient in client.rooms else None
        for room_id, room in client.rooms.items():
            members = set(room.users) | set(room.invited_users)
            if members == {client.user_id, recipient}:
                return room_id
        return None

    async def send(self, recipient: str, replies: list[Reply], key: str = "") -> SendResult:
        """Send replies to a room (or a user's direct room); maps Matrix errors to a result."""
        if not self.logged_in or not self.synced_once:
            return SendResult.retry("temporary: matrix not connected", 1)
        room_id = self.room_for(recipient)
        if room_id is None:
            return SendResult.failed("room gone", unreachable=True)
        if self.client.rooms[room_id].encrypted and self.client.olm is None:
            return SendResult.failed("encrypted room but matrix.encryption is off")
        base = hashlib.sha256(key.encode()).hexdigest()[:24] if key else uuid.uuid4().hex
        for index, (content, reply) in enumerate(render.turn(replies)):
            parts: list[dict[str, Any] | Attachment] = [content] if content else []
            parts += [a for a in (reply.image, reply.file) if a is not None]
            for part_index, part in enumerate(parts):
                result = await self._send_part(room_id, part, reply, f"{base}-{index}-{part_index}")
                if result is not None:
                    return result
        return SendResult.sent()

    async def _send_part(
        self, room_id: str, part: dict[str, Any] | Attachment, reply: Reply, txn: str
    ) -> SendResult | None:
        client = self.client
        assert client is not None
        try:
            if isinstance(part, Attachment):
                msgtype = "m.image" if part is reply.image else "m.file"
                uploaded = await self._upload(room_id, part, msgtype)
                if isinstance(uploaded, SendResult):
                    return uploaded
                part = uploaded
            answer = await client.room_send(
                room_id,
                "m.room.message",
                part,
                tx_id=txn,
                ignore_unverified_devices=self.settings.ignore_unverified_devices,
            )
        except OlmUnverifiedDeviceError:
            return SendResult.failed("unverified devices in the room")
        except LocalProtocolError as error:
            return SendResult.failed(f"room gone: {error}", unreachable=True)
        except NETWORK_ERRORS as error:
            return SendResult.retry(f"temporary: {type(error).__name__}")
        if isinstance(answer, RoomSendResponse):
            return None
        return _error_result(answer)

    async def _upload(self, room_id: str, attachment: Attachment, msgtype: str) -> Any:
        client = self.client
        assert client is not None
        encrypted = room_id in client.rooms and client.rooms[room_id].encrypted
        answer, keys = await client.upload(
            io.BytesIO(attachment.content),
            content_type=attachment.mime_type,
            filename=attachment.filename,
            encrypt=encrypted,
            filesize=len(attachment.content),
        )
        if not isinstance(answer, UploadResponse):
            return _error_result(answer)
        return render.attachment_content(
            msgtype,
            attachment.filename,
            attachment.mime_type,
            len(attachment.content),
            answer.content_uri,
            keys if encrypted else None,
        )


def _has_account(database: Path, stored: Session) -> bool:
    """Whether nio's store holds the Olm account of the stored device (read-only look)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            row = db.execute(
                "SELECT 1 FROM accounts WHERE user_id = ? AND device_id = ?",
                (stored.user_id, stored.device_id),
            ).fetchone()
    except sqlite3.Error:
        return False
    return row is not None


def _close_store(client: AsyncClient) -> None:
    if client.store is not None:
        with contextlib.suppress(Exception):
            client.store.database.close()


def _retry_after(response: Any) -> float | None:
    milliseconds = getattr(response, "retry_after_ms", None)
    return milliseconds / 1000 if milliseconds else None


def _ok(response: Any) -> bool:
    return not isinstance(response, ErrorResponse)


def _error_result(answer: Any) -> SendResult:
    code = getattr(answer, "status_code", None) or ""
    if code == "M_LIMIT_EXCEEDED":
        return SendResult.retry("temporary: M_LIMIT_EXCEEDED", _retry_after(answer) or 5)
    if code == "M_FORBIDDEN":
        return SendResult.failed("forbidden: not in the room", unreachable=True)
    if code in ("M_UNKNOWN_TOKEN", "M_UNKNOWN", ""):
        return SendResult.retry(f"temporary: {code or 'server error'}")
    status = getattr(getattr(answer, "transport_response", None), "status", 500)
    if status >= 500:
        return SendResult.retry(f"temporary: {code}")
    return SendResult.failed(code)
