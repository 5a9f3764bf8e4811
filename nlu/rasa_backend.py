"""The Rasa backend: a Rasa 3.x server's POST /model/parse, the embedded NLU as a safety net.

Intents come from the server (out_of_scope -> nlu_fallback, the threshold applied again so
both backends fall back alike). Entities: the server's for what its model learned from the
training data (job_field, employment_type, ppe_item, shop_category, school_class), the
embedded extractors' for what needs code or the database: amounts in cents, quantities,
voucher codes, resolved dates/times, and the catalogue (location, shop, school), which the
server cannot know.
When the server is unreachable, slow or answers nonsense, the embedded backend answers and a
warning is logged once per outage (never the message text).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from nlu.base import (
    ENTITY_KEYS,
    FALLBACK_INTENT,
    OUT_OF_SCOPE_INTENT,
    RANKING_SIZE,
    finalize_intent,
    intent_entry,
)
from nlu.catalogue import Catalogue
from nlu.embedded import EmbeddedNLU
from nlu.entities import CATALOGUE_ENTITIES, CODED_ENTITIES

logger = logging.getLogger(__name__)

# always from the embedded extractors (cents, codes, the database, resolved dates)
LOCAL_ENTITIES = CATALOGUE_ENTITIES | CODED_ENTITIES | {"time"}


class RasaUnavailable(Exception):
    """The server did not give a usable answer."""


class RasaNLU:
    """Parses through a Rasa server; keeps the embedded NLU's catalogue and sync parse."""

    def __init__(self, url: str, embedded: EmbeddedNLU, *, timeout: float = 2.0,
                 threshold: float | None = None) -> None:
        """url: the server's base URL (http://host:5005); embedded: the fallback backend."""
        self.url = url.rstrip("/")
        self.embedded = embedded
        self.timeout = timeout
        self.threshold = embedded.threshold if threshold is None else threshold
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self.healthy = True  # False while the server is failing (one warning per outage)

    @property
    def catalogue(self) -> Catalogue:
        """The database catalogue (shared with the embedded backend)."""
        return self.embedded.catalogue

    @property
    def train_seconds(self) -> float:
        """Training time of the embedded fallback model (0 when loaded from cache)."""
        return self.embedded.train_seconds

    def parse_sync(self, text: str, lang: str | None = None) -> dict:
        """Synchronous parse: the embedded backend (no event loop to talk to the server)."""
        return self.embedded.parse_sync(text, lang)

    def language_guess(self, text: str) -> tuple[str, float] | None:
        """The embedded detector's guess (the server does not detect languages)."""
        return self.embedded.language_guess(text)

    async def parse(self, text: str, lang: str | None = None) -> dict:
        """Parse through the server; the embedded backend when the server fails."""
        try:
            answer = await self._post(text)
            result = self.convert(text, answer, lang)
        except RasaUnavailable as exc:
            if self.healthy:
                logger.warning("rasa server %s unavailable (%s); using the embedded NLU",
                               self.url, exc)
                self.healthy = False
            return self.embedded.parse_sync(text, lang)
        if not self.healthy:
            logger.info("rasa server %s answers again", self.url)
            self.healthy = True
        return result

    async def _post(self, text: str) -> dict:
        session = self._get_session()
        try:
            async with session.post(f"{self.url}/model/parse", json={"text": text}) as resp:
                if resp.status != 200:
                    raise RasaUnavailable(f"HTTP {resp.status}")
                answer = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise RasaUnavailable(type(exc).__name__ + (f": {exc}" if str(exc) else "")) from exc
        if not isinstance(answer, dict) or not isinstance(answer.get("intent"), dict):
            raise RasaUnavailable("answer without an intent")
        return answer

    def _get_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)
            self._session_loop = loop
        return self._session

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def convert(self, text: str, answer: dict[str, Any], lang: str | None) -> dict:
        """A Rasa 3.x /model/parse answer in citybot's parse-result shape."""
        try:
            top = answer["intent"]
            raw = answer.get("intent_ranking") or [top]
            ranking = [(str(r["name"]), float(r["confidence"])) for r in raw
                       if r.get("name") and r["name"] != FALLBACK_INTENT]
            if top.get("name") == FALLBACK_INTENT:
                intent = intent_entry(FALLBACK_INTENT, float(top.get("confidence") or 0.0))
                rest = [intent_entry(n, c) for n, c in ranking if n != OUT_OF_SCOPE_INTENT]
                intent_ranking = [intent, *rest[: RANKING_SIZE - 1]]
            else:
                ranking.sort(key=lambda item: -item[1])
                intent, intent_ranking = finalize_intent(ranking, self.threshold)
            server_entities = [
                {k: e.get(k) for k in ENTITY_KEYS}
                for e in answer.get("entities") or []
                if e.get("entity") not in LOCAL_ENTITIES
            ]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RasaUnavailable(f"unexpected answer shape ({type(exc).__name__})") from exc
        local = [e for e in self.embedded.entities(text) if e["entity"] in LOCAL_ENTITIES]
        entities = sorted(server_entities + local,
                          key=lambda e: (e["start"] or 0, e["end"] or 0))
        return {
            "text": text,
            "intent": intent,
            "intent_ranking": intent_ranking,
            "entities": entities,
            "candidate_entities": entities,
            "language": lang or self.embedded.detect_language(text),
        }
