"""Per-user limits: wrong code guesses (invite codes, voucher codes) and message floods.

Both are kept in the memory of the process (see README, "Limits"): a code guess limit of
5 per 10 minutes per process leaves an attacker with k processes 5·k guesses per 10
minutes against a code space of 32^8, and the flood limit protects the process that does
the work. Keys are platform identities, not database users, so erasing the account does
not reset them.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from aiolimiter import AsyncLimiter

from bot.config import SecurityConfig
from bot.messages import Reply

if TYPE_CHECKING:
    from bot.context import Context

logger = logging.getLogger(__name__)
MAX_KEYS = 10_000  # above this, keys without recent activity are forgotten
Verdict = Literal["ok", "notice", "drop"]


class AttemptLimiter:
    """At most `limit` failed attempts per key within `window` seconds (a sliding window)."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[Hashable, deque[float]] = {}

    def _recent(self, key: Hashable) -> deque[float]:
        now = self.clock()
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return failures

    def blocked(self, key: Hashable) -> bool:
        """Whether the key has used up its failed attempts for now."""
        return len(self._recent(key)) >= self.limit

    def failed(self, key: Hashable) -> int:
        """Count a failed attempt; returns the key's failures within the window."""
        failures = self._recent(key)
        failures.append(self.clock())
        self._failures[key] = failures
        if len(self._failures) > MAX_KEYS:
            for old in [
                k for k, v in self._failures.items() if v[-1] <= self.clock() - self.window
            ]:
                del self._failures[old]
        return len(failures)


@dataclass
class _Bucket:
    limiter: AsyncLimiter
    noticed: bool = False


class FloodGuard:
    """A leaky bucket per user (aiolimiter): `messages` at once, then `messages` per `seconds`.

    A user over the limit gets one notice ("notice"), then their messages are dropped
    ("drop") until the bucket has room again; other users are not affected.
    """

    def __init__(self, messages: int, seconds: float) -> None:
        self.messages = messages
        self.seconds = seconds
        self._buckets: dict[Hashable, _Bucket] = {}

    async def check(self, key: Hashable) -> Verdict:
        """Let one message of the key through, or say whether to notify or drop it."""
        if self.messages <= 0:
            return "ok"
        bucket = self._buckets.get(key)
        if bucket is None:
            self._forget_idle()
            bucket = self._buckets[key] = _Bucket(AsyncLimiter(self.messages, self.seconds))
        if bucket.limiter.has_capacity():
            await bucket.limiter.acquire()
            bucket.noticed = False
            return "ok"
        if bucket.noticed:
            return "drop"
        bucket.noticed = True
        return "notice"

    def _forget_idle(self) -> None:
        if len(self._buckets) < MAX_KEYS:
            return
        for key in [
            k
            for k, b in self._buckets.items()
            if not b.noticed and b.limiter.has_capacity(self.messages)
        ]:
            del self._buckets[key]


@dataclass
class Limits:
    """The limits of one dispatcher: code guesses per kind, and the message flood guard."""

    config: SecurityConfig = field(default_factory=SecurityConfig)
    _guesses: dict[str, AttemptLimiter] = field(default_factory=dict)
    flood: FloodGuard = field(init=False)

    def __post_init__(self) -> None:
        self.flood = FloodGuard(self.config.messages_per_minute, 60)

    def guesses(self, kind: str) -> AttemptLimiter:
        """The wrong-guess limiter of one kind of code ('claim', 'voucher', ...)."""
        if kind not in self._guesses:
            self._guesses[kind] = AttemptLimiter(
                self.config.code_guesses, self.config.code_guess_minutes * 60
            )
        return self._guesses[kind]


def _guesser(ctx: Context) -> tuple[str, str]:
    return (ctx.incoming.platform, ctx.incoming.user_id)


def guesses_left(ctx: Context, kind: str) -> list[Reply] | None:
    """None if the user may try a code of this kind now, else the 'try again later' answer."""
    limiter = ctx.limits.guesses(kind)
    if not limiter.blocked(_guesser(ctx)):
        return None
    logger.warning("code guess refused kind=%s platform=%s", kind, ctx.incoming.platform)
    return [Reply(ctx.t("limits.guesses", minutes=ctx.limits.config.code_guess_minutes))]


def wrong_guess(ctx: Context, kind: str) -> None:
    """Count a wrong code of this kind for the user; logged without the code or the user."""
    count = ctx.limits.guesses(kind).failed(_guesser(ctx))
    logger.warning("wrong code kind=%s platform=%s failures=%d", kind, ctx.incoming.platform, count)
