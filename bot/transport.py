"""The interface every messenger transport implements, and the result of one send."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.messages import Incoming, Reply

Dispatch = Callable[[Incoming], Awaitable[list[Reply]]]


class TransportStartError(Exception):
    """A transport cannot start safely; the message is one line for the operator."""


@dataclass(frozen=True)
class SendResult:
    """What happened to one outgoing message: sent, retry later, or failed for good."""

    status: Literal["sent", "retry", "failed"]
    retry_after: float | None = None
    unreachable: bool = False
    error: str = ""

    @classmethod
    def sent(cls) -> SendResult:
        """The platform acknowledged the message."""
        return cls("sent")

    @classmethod
    def retry(cls, error: str, after: float | None = None) -> SendResult:
        """A temporary failure (flood control, network, server error): try again later."""
        return cls("retry", retry_after=after, error=error)

    @classmethod
    def failed(cls, error: str, *, unreachable: bool = False) -> SendResult:
        """A permanent failure; unreachable means the recipient blocked the bot or is gone."""
        return cls("failed", unreachable=unreachable, error=error)


class Transport(Protocol):
    """A messenger: turns platform events into Incoming and replies into platform calls."""

    name: str
    leader_only: bool

    async def start(self, dispatch: Dispatch) -> None:
        """Begin receiving; every event goes to dispatch, its replies back to the sender."""

    async def send(self, recipient: str, replies: list[Reply], key: str = "") -> SendResult:
        """Send replies to a recipient (a chat id); key identifies the outbox row, if any."""

    async def stop(self) -> None:
        """Stop receiving and release resources."""
