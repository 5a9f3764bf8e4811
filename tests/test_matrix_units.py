"""The Matrix transport's translation rules, without a homeserver."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from nio import AsyncClient, MatrixRoom, RoomMessageText, RoomSendError, SyncError

from bot.config import MatrixConfig
from bot.matrix import MatrixStartError, MatrixTransport, render
from bot.matrix.session import Session, load, save
from bot.matrix.transport import SyncFailed, TokenRejected, _error_result
from bot.messages import Button, Reply

BOT = "@citybot:example.org"


def settings(**overrides: object) -> MatrixConfig:
    values: dict[str, object] = {
        "homeserver": "http://127.0.0.1:9",
        "user_id": BOT,
        "password": "secret",
        **overrides,
    }
    return MatrixConfig(**values)


@pytest.fixture
def transport(tmp_path: Path) -> MatrixTransport:
    made = MatrixTransport(settings(), tmp_path / "store")
    made.client = AsyncClient("http://127.0.0.1:9", BOT)
    made.client.user_id = BOT
    return made


def room_with(*members: str) -> MatrixRoom:
    room = MatrixRoom("!room:example.org", BOT)
    for member in (BOT, *members):
        room.add_member(member, "Citybot" if member == BOT else None, None)
    return room


def text_event(body: str, **content: object) -> RoomMessageText:
    return RoomMessageText.from_dict(
        {
            "type": "m.room.message",
            "event_id": "$event",
            "sender": "@anna:example.org",
            "origin_server_ts": 1,
            "content": {"msgtype": "m.text", "body": body, **content},
        }
    )


def test_a_reply_is_a_notice_with_escaped_html():
    content = render.notice(Reply("<b>Pflege</b> & mehr\nZeile 2"))
    assert content is not None
    assert content["msgtype"] == "m.notice"
    assert content["body"] == "<b>Pflege</b> & mehr\nZeile 2"
    assert content["formatted_body"] == "<p>&lt;b&gt;Pflege&lt;/b&gt; &amp; mehr<br>Zeile 2</p>"


def test_buttons_are_numbered_across_the_turn():
    turn = render.turn(
        [
            Reply("Job A", [Button("Details", "job.show:1"), Button("Bewerben", "job.apply:1")]),
            Reply("Job B", [Button("Details", "job.show:2")]),
        ]
    )
    second = turn[1][0]
    assert second is not None
    assert second["body"] == "Job B\n3. Details"
    assert '<ol start="3"><li>Details</li></ol>' in second["formatted_body"]


def test_a_reply_without_text_or_buttons_has_no_notice():
    assert render.notice(Reply("")) is None


def test_a_direct_message_is_text_with_the_event_id(transport):
    incoming = transport.incoming(room_with("@anna:example.org"), text_event("pflegejobs"))
    assert incoming is not None
    assert (incoming.platform, incoming.kind, incoming.text) == ("matrix", "text", "pflegejobs")
    assert incoming.event_id == "$event" and incoming.chat_id == "!room:example.org"
    assert incoming.user_id == "@anna:example.org" and not incoming.is_group


@pytest.mark.parametrize("body", ["/language en", "!language en", "!citybot /language en"])
def test_commands_start_with_a_slash_or_an_exclamation_mark(transport, body):
    incoming = transport.incoming(room_with("@anna:example.org"), text_event(body))
    assert incoming is not None and incoming.kind == "command"
    assert incoming.text.lstrip("/!") == "language en"


def test_the_quote_of_a_rich_reply_is_dropped(transport):
    body = "> <@citybot:example.org> 1. Details\n> 2. Bewerben\n\n2"
    incoming = transport.incoming(room_with("@anna:example.org"), text_event(body))
    assert incoming is not None and incoming.text == "2"


def test_a_group_message_without_mention_is_not_for_the_bot(transport):
    room = room_with("@anna:example.org", "@ben:example.org")
    assert transport.incoming(room, text_event("ich suche arbeit in der pflege")) is None


@pytest.mark.parametrize(
    ("body", "content", "text"),
    [
        ("Citybot: pflegejobs", {}, "pflegejobs"),
        ("citybot, pflegejobs", {}, "pflegejobs"),
        ("!citybot pflegejobs", {}, "pflegejobs"),
        ("pflegejobs bitte", {"m.mentions": {"user_ids": [BOT]}}, "pflegejobs bitte"),
    ],
)
def test_a_group_message_for_the_bot_loses_the_mention(transport, body, content, text):
    room = room_with("@anna:example.org", "@ben:example.org")
    incoming = transport.incoming(room, text_event(body, **content))
    assert incoming is not None and incoming.is_group and incoming.text == text


def test_a_bare_mention_asks_for_help(transport):
    room = room_with("@anna:example.org", "@ben:example.org")
    incoming = transport.incoming(room, text_event("Citybot:"))
    assert incoming is not None and (incoming.kind, incoming.text) == ("command", "/help")


def test_limit_exceeded_is_retried_after_the_servers_wish():
    answer = RoomSendError("Too Many Requests", "M_LIMIT_EXCEEDED", retry_after_ms=2500)
    result = _error_result(answer)
    assert result.status == "retry" and result.retry_after == 2.5


def test_forbidden_means_the_room_is_gone():
    result = _error_result(RoomSendError("not in room", "M_FORBIDDEN"))
    assert result.status == "failed" and result.unreachable


async def test_sending_before_the_first_sync_is_retried(transport):
    result = await transport.send("!room:example.org", [Reply("Hallo")])
    assert result.status == "retry"


def test_the_session_file_is_private(tmp_path):
    save(tmp_path, Session("http://hs", BOT, "DEVICE", "token", "s1"))
    assert stat.S_IMODE((tmp_path / "session.json").stat().st_mode) == 0o600
    assert load(tmp_path) == Session("http://hs", BOT, "DEVICE", "token", "s1")


def test_a_session_without_its_crypto_store_refuses_to_start(tmp_path):
    save(tmp_path, Session("http://127.0.0.1:9", BOT, "DEVICE", "token"))
    with pytest.raises(MatrixStartError, match="crypto store"):
        MatrixTransport(settings(), tmp_path)


def test_an_empty_crypto_store_refuses_to_start(tmp_path):
    save(tmp_path, Session("http://127.0.0.1:9", BOT, "DEVICE", "token"))
    (tmp_path / f"{BOT}_DEVICE.db").write_bytes(b"")
    with pytest.raises(MatrixStartError, match="no keys"):
        MatrixTransport(settings(), tmp_path)


def test_without_encryption_no_crypto_store_is_needed(tmp_path):
    save(tmp_path, Session("http://127.0.0.1:9", BOT, "DEVICE", "token"))
    MatrixTransport(settings(encryption=False), tmp_path)


def test_matrix_config_defaults():
    config = settings()
    assert config.encryption and config.ignore_unverified_devices
    assert config.allowed_servers == [] and config.command_prefix == "!citybot"


def test_an_edit_is_not_a_new_message(transport):
    edit = text_event(
        "* pflegejobs",
        **{"m.relates_to": {"rel_type": "m.replace", "event_id": "$old"}},
    )
    assert transport.incoming(room_with("@anna:example.org"), edit) is None


def test_the_display_name_comes_from_the_room(transport):
    room = MatrixRoom("!room:example.org", BOT)
    room.add_member(BOT, "Citybot", None)
    room.add_member("@anna:example.org", "Anna", None)
    incoming = transport.incoming(room, text_event("hallo"))
    assert incoming is not None and incoming.display_name == "Anna"


class LimitedSync:
    """A client whose /sync answers M_LIMIT_EXCEEDED or an unknown token."""

    def __init__(self, code: str, retry_after_ms: int | None = None) -> None:
        self.code = code
        self.retry_after_ms = retry_after_ms
        self.next_batch = None
        self.access_token = "token"

    async def sync(self, **_: object) -> SyncError:
        return SyncError("no", self.code, self.retry_after_ms)


async def test_a_rate_limited_sync_waits_for_retry_after(transport):
    transport.client = LimitedSync("M_LIMIT_EXCEEDED", 1500)
    with pytest.raises(SyncFailed) as failed:
        await transport._sync_once()
    assert failed.value.retry_after == 1.5


async def test_a_rejected_token_means_logging_in_again(transport):
    transport.client = LimitedSync("M_UNKNOWN_TOKEN")
    with pytest.raises(TokenRejected):
        await transport._sync_once()


def test_a_word_starting_with_the_bots_name_is_no_mention_prefix(transport):
    room = room_with("@anna:example.org", "@ben:example.org")
    incoming = transport.incoming(room, text_event("citybots sind toll"))
    assert incoming is not None and incoming.text == "citybots sind toll"
