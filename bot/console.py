"""Console transport: chat with citybot in a terminal, or pipe lines through it."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from bot.listing import choice_lines, list_turn
from bot.messages import Attachment, Incoming, Reply, flat_buttons, takes_a_number

PLATFORM = "console"
Dispatch = Callable[[Incoming], Awaitable[list[Reply]]]
Inbox = Callable[[], Awaitable[list[Reply]]]  # messages queued for the user since the last look


def render(replies: list[Reply], files_dir: Path) -> str:
    """Replies as terminal text; buttons numbered across the turn as [1] Label, a list turn's
    as a line per item ("1 Details · 1 Bewerben", bot/listing.py)."""
    blocks = []
    number = 0
    listing = list_turn(flat_buttons(replies))
    for reply in replies:
        lines = [reply.text] if reply.text else []
        for attachment in (reply.image, reply.file):
            if attachment is not None:
                lines.append(f"[{attachment.filename}: {save_attachment(attachment, files_dir)}]")
        if reply.venue is not None:
            lines.append(reply.venue.as_text())
        if listing:
            lines += [f"  {line}" for line in choice_lines(reply.buttons)]
        for button in reply.buttons:
            if button.url:
                lines.append(f"  {button.label}: {button.url}")
            elif not listing and takes_a_number(button):
                number += 1
                lines.append(f"  [{number}] {button.label}")
            elif not listing:  # a form's Cancel: typed by its label
                lines.append(f"  {button.label}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def save_attachment(attachment: Attachment, files_dir: Path) -> Path:
    """Write an image or file of a reply to the console's download folder."""
    files_dir.mkdir(parents=True, exist_ok=True)
    path = files_dir / Path(attachment.filename).name
    path.write_bytes(attachment.content)
    return path


class ConsoleTransport:
    """Reads lines from stdin (a terminal or a pipe) and prints the replies."""

    name = PLATFORM

    def __init__(
        self,
        user: str,
        files_dir: Path,
        *,
        language: str | None = None,
        stdin: TextIO = sys.stdin,
        stdout: TextIO = sys.stdout,
        inbox: Inbox | None = None,
    ) -> None:
        """inbox: the user's queued messages (shop updates, job alerts, …), shown before each
        prompt."""
        self.user = user
        self.inbox = inbox
        self.files_dir = files_dir
        self.language = language
        self.stdin = stdin
        self.stdout = stdout
        self.interactive = stdin.isatty()

    def incoming(self, line: str) -> Incoming:
        """One input line as an event: a /command or text (a bare number presses a button)."""
        kind = "command" if line.startswith("/") else "text"
        return Incoming(
            platform=PLATFORM,
            chat_id=self.user,
            user_id=self.user,
            event_id=uuid.uuid4().hex,
            kind=kind,
            text=line,
            locale=self.language,
            display_name=self.user if self.user != "local" else None,
        )

    async def _read_line(self) -> str | None:
        if self.interactive:
            try:
                return await asyncio.to_thread(input, "> ")
            except EOFError:
                return None
        line = await asyncio.to_thread(self.stdin.readline)
        return line.rstrip("\n") if line else None

    def _print(self, replies: list[Reply]) -> None:
        if replies:
            print(render(replies, self.files_dir), file=self.stdout, end="\n\n", flush=True)

    async def run(self, dispatch: Dispatch) -> None:
        """Chat until end of input."""
        if self.language:
            await dispatch(self.incoming(f"/language {self.language}"))
        if self.interactive:
            self._print(await dispatch(self.incoming("/start")))
        await self._show_inbox()
        while (line := await self._read_line()) is not None:
            line = line.strip()
            if not line:
                continue
            self._print(await dispatch(self.incoming(line)))
            await self._show_inbox()

    async def _show_inbox(self) -> None:
        if self.inbox is not None:
            self._print(await self.inbox())
