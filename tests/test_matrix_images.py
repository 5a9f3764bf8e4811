"""Matrix m.image events become Incoming.image (encrypted media decrypted), without a server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from nio import AsyncClient, MemoryDownloadResponse, RoomEncryptedImage, RoomMessageImage
from nio.crypto.attachments import encrypt_attachment

from bot.matrix import MatrixTransport, render
from bot.messages import Incoming, Reply, Venue
from tests.test_matrix_units import BOT, room_with, settings

PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8 + b"\xff\xd9"


class Downloads(AsyncClient):
    """A client whose download() answers from a dict of mxc URLs."""

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__("http://127.0.0.1:9", BOT)
        self.user_id = BOT
        self.files = files

    async def download(self, mxc: str | None = None, **_: Any) -> MemoryDownloadResponse:
        return MemoryDownloadResponse(self.files[mxc or ""], "application/octet-stream", None)


@pytest.fixture
def seen(tmp_path: Path) -> tuple[MatrixTransport, list[Incoming]]:
    transport = MatrixTransport(settings(), tmp_path / "store")
    got: list[Incoming] = []

    async def dispatch(incoming: Incoming) -> list[Reply]:
        got.append(incoming)
        return []

    transport.dispatch = dispatch
    return transport, got


def image_content(**extra: Any) -> dict[str, Any]:
    return {
        "type": "m.room.message",
        "event_id": "$image",
        "sender": "@anna:example.org",
        "origin_server_ts": 1,
        "content": {"msgtype": "m.image", "body": "laden.jpg", **extra},
    }


async def test_a_plain_image_is_downloaded(seen):
    transport, got = seen
    transport.client = Downloads({"mxc://example.org/plain": PHOTO})
    event = RoomMessageImage.from_dict(
        image_content(url="mxc://example.org/plain", info={"mimetype": "image/jpeg"})
    )
    await transport._on_event(room_with("@anna:example.org"), event)
    assert len(got) == 1 and got[0].text == "" and got[0].event_id == "$image"
    assert got[0].image is not None and got[0].image.content == PHOTO
    assert got[0].image.mime_type == "image/jpeg"


async def test_an_encrypted_image_is_decrypted(seen):
    transport, got = seen
    ciphertext, keys = encrypt_attachment(PHOTO)
    transport.client = Downloads({"mxc://example.org/secret": ciphertext})
    source = image_content(
        file={"url": "mxc://example.org/secret", "mimetype": "image/png", **keys},
        info={"mimetype": "image/png", "size": len(PHOTO)},
    )
    event = RoomEncryptedImage.from_dict(source)
    assert isinstance(event, RoomEncryptedImage)
    await transport._on_event(room_with("@anna:example.org"), event)
    assert got[0].image is not None and got[0].image.content == PHOTO
    assert got[0].image.mime_type == "image/png"


async def test_a_too_large_image_is_not_downloaded(seen):
    transport, got = seen
    transport.client = Downloads({})
    event = RoomMessageImage.from_dict(
        image_content(url="mxc://example.org/big", info={"size": 6 * 1024 * 1024})
    )
    await transport._on_event(room_with("@anna:example.org"), event)
    assert len(got) == 1 and got[0].image is None


def test_a_venue_is_a_line_with_a_geo_link():
    venue = Venue(51.5068, 7.4474, "Café Rosa", "Arneckestraße 12, 44139 Dortmund")
    content = render.notice(Reply("So kommst du hin", venue=venue))
    assert content is not None
    assert content["body"].endswith("Arneckestraße 12, 44139 Dortmund: geo:51.50680,7.44740")
