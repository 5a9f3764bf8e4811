"""The Rasa backend against a small fake Rasa server on 127.0.0.1 (aiohttp)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web

from bot.app import build_nlu
from bot.config import ConfigError, config_from_mapping
from nlu import EmbeddedNLU
from nlu.base import ENTITY_KEYS, RESULT_KEYS
from nlu.rasa_backend import RasaNLU
from tests.conftest import shared_nlu_cache

TEXT = "ich suche arbeit in der pflege in hörde für 25 euro"


def rasa_answer(text: str, intent: str = "find_job", confidence: float = 0.91) -> dict:
    """A Rasa 3.x /model/parse answer (with the extra keys a real server sends)."""
    ranking = [
        {"name": intent, "confidence": confidence},
        {"name": "post_job", "confidence": 0.05},
        {"name": "out_of_scope", "confidence": 0.03},
        {"name": "job_alert", "confidence": 0.01},
    ]
    return {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": [
            {
                "entity": "job_field",
                "start": 24,
                "end": 30,
                "confidence_entity": 0.99,
                "value": "nursing",
                "extractor": "CRFEntityExtractor",
                "processors": ["EntitySynonymMapper"],
            },
            {
                "entity": "amount",
                "start": 45,
                "end": 52,
                "value": "25 euro",
                "extractor": "RegexEntityExtractor",
            },
        ],
        "text_tokens": [[0, 3]],
        "intent_ranking": ranking,
        "response_selector": {},
    }


class FakeRasa:
    """Serves POST /model/parse with a configurable behaviour; records the requests."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.behaviour: Callable[[dict], web.StreamResponse] = lambda body: web.json_response(
            rasa_answer(body["text"])
        )
        self.delay = 0.0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.behaviour(body)


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeRasa, str]]:
    server = FakeRasa()
    app = web.Application()
    app.router.add_post("/model/parse", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_parse_converts_the_rasa_answer(fake, nlu_model: EmbeddedNLU):
    server, url = fake
    rasa = RasaNLU(url + "/", nlu_model, timeout=2.0)
    try:
        result = await rasa.parse(TEXT, "de")
    finally:
        await rasa.close()
    assert server.requests == [{"text": TEXT}]
    assert tuple(result) == RESULT_KEYS
    assert result["intent"] == {"name": "find_job", "confidence": 0.91}
    names = [r["name"] for r in result["intent_ranking"]]
    assert names == ["find_job", "post_job", "job_alert"]  # out_of_scope never shown
    for entity in result["entities"]:
        assert tuple(entity) == ENTITY_KEYS
    by_type = {e["entity"]: e for e in result["entities"]}
    assert by_type["job_field"]["value"] == "nursing"
    assert by_type["job_field"]["extractor"] == "CRFEntityExtractor"
    # amounts come from the embedded parser: integer cents, not Rasa's string
    assert by_type["amount"]["value"] == 2500
    assert result["language"] == "de"
    assert rasa.healthy


async def test_out_of_scope_and_low_confidence_become_fallback(fake, nlu_model: EmbeddedNLU):
    server, url = fake
    rasa = RasaNLU(url, nlu_model, timeout=2.0, threshold=0.45)
    try:
        server.behaviour = lambda body: web.json_response(
            rasa_answer(body["text"], "out_of_scope", 0.8)
        )
        oos = await rasa.parse("wie wird das wetter morgen")
        server.behaviour = lambda body: web.json_response(
            rasa_answer(body["text"], "find_job", 0.3)
        )
        low = await rasa.parse("hm jobs vielleicht")
        fallback = rasa_answer("xyz", "nlu_fallback", 0.45)
        fallback["intent_ranking"].insert(0, {"name": "nlu_fallback", "confidence": 0.45})
        server.behaviour = lambda body: web.json_response(fallback)
        rasa_fallback = await rasa.parse("xyz")
    finally:
        await rasa.close()
    assert oos["intent"]["name"] == "nlu_fallback"
    assert oos["intent"]["confidence"] == 0.8
    assert "out_of_scope" not in [r["name"] for r in oos["intent_ranking"]]
    assert low["intent"] == {"name": "nlu_fallback", "confidence": 0.45}
    assert low["intent_ranking"][1]["name"] == "find_job"
    assert rasa_fallback["intent"]["name"] == "nlu_fallback"
    assert [r["name"] for r in rasa_fallback["intent_ranking"]].count("nlu_fallback") == 1


@pytest.mark.parametrize("failure", ["http500", "not_json", "no_intent", "bad_shape", "slow"])
async def test_server_failures_fall_back_to_embedded(
    fake, nlu_model: EmbeddedNLU, failure: str, caplog: pytest.LogCaptureFixture
):
    server, url = fake
    if failure == "http500":
        server.behaviour = lambda body: web.Response(status=500, text="boom")
    elif failure == "not_json":
        server.behaviour = lambda body: web.Response(text="<html>", content_type="text/html")
    elif failure == "no_intent":
        server.behaviour = lambda body: web.json_response({"text": body["text"]})
    elif failure == "bad_shape":
        server.behaviour = lambda body: web.json_response(
            {"intent": {"name": "find_job"}, "intent_ranking": [{"name": "x"}]}
        )
    else:
        server.delay = 0.6
    rasa = RasaNLU(url, nlu_model, timeout=0.3)
    caplog.set_level(logging.WARNING, logger="nlu.rasa_backend")
    try:
        result = await rasa.parse(TEXT, "de")
    finally:
        await rasa.close()
    assert result == nlu_model.parse_sync(TEXT, "de")
    assert not rasa.healthy
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "embedded" in warnings[0].getMessage()
    assert "pflege" not in caplog.text and TEXT not in caplog.text  # never the user's text


async def test_unreachable_server_warns_once_and_recovers(
    fake, nlu_model: EmbeddedNLU, caplog: pytest.LogCaptureFixture
):
    _server, url = fake
    rasa = RasaNLU(f"http://127.0.0.1:{free_port()}", nlu_model, timeout=1.0)
    caplog.set_level(logging.INFO, logger="nlu.rasa_backend")
    try:
        first = await rasa.parse("ich suche arbeit in der pflege")
        second = await rasa.parse("danke dir")
        assert first["intent"]["name"] == "find_job"
        assert second["intent"]["name"] == "thanks"
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1  # one per outage, not per message
        assert "arbeit" not in caplog.text
        rasa.url = url  # the server is back
        third = await rasa.parse(TEXT)
    finally:
        await rasa.close()
    assert third["intent"]["confidence"] == 0.91
    assert rasa.healthy
    assert "answers again" in caplog.text


async def test_parse_sync_and_catalogue_are_the_embedded_ones(nlu_model: EmbeddedNLU):
    rasa = RasaNLU("http://127.0.0.1:9", nlu_model)
    assert rasa.catalogue is nlu_model.catalogue
    assert rasa.parse_sync("hallo") == nlu_model.parse_sync("hallo")
    await rasa.close()


def test_build_nlu_wires_the_rasa_backend(tmp_path_factory: pytest.TempPathFactory):
    cache = shared_nlu_cache(tmp_path_factory)
    config = config_from_mapping(
        {
            "nlu": {
                "backend": "rasa",
                "cache_dir": str(cache),
                "rasa": {"url": "http://127.0.0.1:5005", "timeout": 1.5},
            }
        }
    )
    nlu = build_nlu(config)
    assert isinstance(nlu, RasaNLU)
    assert nlu.url == "http://127.0.0.1:5005" and nlu.timeout == 1.5
    assert nlu.threshold == config.nlu.threshold
    nlu.catalogue.replace("location", {"Hörde": ["Hoerde"]})
    assert nlu.parse_sync("jobs in hörde")["entities"][-1]["value"] == "Hörde"


def test_config_rejects_unknown_backend_and_bad_timeout():
    with pytest.raises(ConfigError):
        config_from_mapping({"nlu": {"backend": "watson"}})
    with pytest.raises(ConfigError):
        config_from_mapping({"nlu": {"rasa": {"timeout": 0}}})


async def test_evaluation_runs_through_the_rasa_backend(fake, nlu_model: EmbeddedNLU):
    from nlu.rasa_yaml import EntitySpan, Example
    from nlu.report import build_report, predict_all_async

    _server, url = fake
    rasa = RasaNLU(url, nlu_model, timeout=2.0)
    examples = [Example(TEXT, "find_job", "de", (EntitySpan("job_field", "nursing", 0, 0, ""),)),
                Example("wir suchen zwei pflegekräfte", "post_job", "de")]
    try:
        report = build_report(await predict_all_async(rasa, examples))
    finally:
        await rasa.close()
    assert report.accuracy == 0.5  # the fake always answers find_job
    assert report.entities["job_field"].recall == 1.0
