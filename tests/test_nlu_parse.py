"""The parse result: the documented examples, its exact shape, fallback, language, speed."""

from __future__ import annotations

import json

import pytest

from nlu import DEFAULT_THRESHOLD, Catalogue, EmbeddedNLU, NLUBackend, default_data_dir
from nlu.base import ENTITY_KEYS, RANKING_SIZE, RESULT_KEYS, finalize_intent
from tests.conftest import shared_nlu_cache

DISTRICTS = {
    "Innenstadt": ["Innenstadt", "city centre", "Zentrum", "Mitte"],
    "Hörde": ["Hörde"],
    "Aplerbeck": ["Aplerbeck"],
}


@pytest.fixture(scope="module")
def nlu(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedNLU:
    cache = shared_nlu_cache(tmp_path_factory)
    catalogue = Catalogue({"location": DISTRICTS})
    return EmbeddedNLU.from_data(
        default_data_dir(), threshold=DEFAULT_THRESHOLD, cache_dir=cache, catalogue=catalogue
    )


def entities(result: dict) -> dict[str, object]:
    return {e["entity"]: e["value"] for e in result["entities"]}


def test_german_nursing_search_in_the_city_centre(nlu: EmbeddedNLU):
    text = "ich suche arbeit in der pflege in der innenstadt"
    result = nlu.parse_sync(text)
    assert result["intent"]["name"] == "find_job"
    assert entities(result) == {"job_field": "nursing", "location": "Innenstadt"}
    spans = {e["entity"]: text[e["start"] : e["end"]] for e in result["entities"]}
    assert spans == {"job_field": "pflege", "location": "innenstadt"}


def test_english_part_time_warehouse_jobs(nlu: EmbeddedNLU):
    result = nlu.parse_sync("any part-time warehouse jobs?")
    assert result["intent"]["name"] == "find_job"
    assert entities(result) == {"employment_type": "part_time", "job_field": "logistics"}
    assert result["language"] == "en"


def test_job_alert_for_nursing_jobs(nlu: EmbeddedNLU):
    result = nlu.parse_sync("sag mir bescheid wenn es neue pflegejobs gibt")
    assert result["intent"]["name"] == "job_alert"
    assert entities(result) == {"job_field": "nursing"}


@pytest.mark.parametrize("text", ["hallo", "hi", "Hallo!", "hi there"])
def test_greetings(nlu: EmbeddedNLU, text: str):
    assert nlu.parse_sync(text)["intent"]["name"] == "greet"


def test_cancel(nlu: EmbeddedNLU):
    assert nlu.parse_sync("abbrechen")["intent"]["name"] == "cancel"


def test_city_centre_alias_resolves_to_the_district(nlu: EmbeddedNLU):
    result = nlu.parse_sync("any nursing jobs in the city centre?")
    assert entities(result) == {"job_field": "nursing", "location": "Innenstadt"}


def test_result_has_exactly_the_documented_shape(nlu: EmbeddedNLU):
    result = nlu.parse_sync("wir brauchen 200 ffp2 masken in hörde")
    assert tuple(result) == RESULT_KEYS
    assert result["text"] == "wir brauchen 200 ffp2 masken in hörde"
    assert set(result["intent"]) == {"name", "confidence"}
    assert isinstance(result["intent"]["name"], str)
    assert isinstance(result["intent"]["confidence"], float)
    ranking = result["intent_ranking"]
    assert 1 <= len(ranking) <= RANKING_SIZE
    assert all(set(r) == {"name", "confidence"} for r in ranking)
    assert ranking[0] == result["intent"]
    confidences = [r["confidence"] for r in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert result["entities"]
    for entity in result["entities"]:
        assert tuple(entity) == ENTITY_KEYS
        assert isinstance(entity["start"], int) and isinstance(entity["end"], int)
        assert isinstance(entity["extractor"], str)
    assert result["language"] in ("de", "en")


def test_result_is_plain_json(nlu: EmbeddedNLU):
    result = nlu.parse_sync("gutschein K7QF-2M9X über 12,50 € für 2 personen")
    assert json.loads(json.dumps(result)) == result
    assert {e["entity"]: e["value"] for e in result["entities"]} == {
        "voucher_code": "K7QF-2M9X", "amount": 1250, "quantity": 2
    }


def test_out_of_scope_is_never_reported(nlu: EmbeddedNLU):
    for text in ("wie wird das wetter morgen", "tell me a joke", "asdf", ""):
        result = nlu.parse_sync(text)
        assert result["intent"]["name"] == "nlu_fallback"
        assert all(r["name"] != "out_of_scope" for r in result["intent_ranking"])


def test_below_threshold_is_fallback_with_rasa_confidence():
    ranking = [("find_job", 0.40), ("post_job", 0.35), ("out_of_scope", 0.25)]
    intent, ranked = finalize_intent(ranking, threshold=0.45)
    assert intent == {"name": "nlu_fallback", "confidence": 0.45}
    assert [r["name"] for r in ranked] == ["nlu_fallback", "find_job", "post_job"]


def test_confident_intent_is_kept():
    intent, ranked = finalize_intent([("greet", 0.9), ("out_of_scope", 0.05)], threshold=0.45)
    assert intent == {"name": "greet", "confidence": 0.9}
    assert ranked == [intent]


def test_threshold_one_makes_everything_fallback(tmp_path_factory: pytest.TempPathFactory):
    cache = shared_nlu_cache(tmp_path_factory)
    strict = EmbeddedNLU.from_data(default_data_dir(), threshold=1.0, cache_dir=cache)
    assert strict.parse_sync("hallo")["intent"]["name"] == "nlu_fallback"


def test_given_language_is_returned_unchanged(nlu: EmbeddedNLU):
    assert nlu.parse_sync("hallo", lang="en")["language"] == "en"
    assert nlu.parse_sync("hello", lang="de")["language"] == "de"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("ich suche eine stelle als verkäuferin", "de"),
        ("gibt es freie stellen in der pflege", "de"),
        ("wie viel ist noch auf meinem gutschein", "de"),
        ("i am looking for a job in a warehouse", "en"),
        ("how much is left on my voucher", "en"),
        ("please delete all my data", "en"),
    ],
)
def test_language_detection(nlu: EmbeddedNLU, text: str, lang: str):
    assert nlu.parse_sync(text)["language"] == lang


def test_wrong_language_hint_does_not_change_the_intent(nlu: EmbeddedNLU):
    text = "ich suche einen job im lager"
    assert nlu.parse_sync(text, lang="en")["intent"] == nlu.parse_sync(text)["intent"]


async def test_async_parse_equals_parse_sync(nlu: EmbeddedNLU):
    text = "redeem 10 euros from code K7QF-2M9X"
    assert await nlu.parse(text) == nlu.parse_sync(text)


def test_embedded_nlu_is_an_nlu_backend(nlu: EmbeddedNLU):
    assert isinstance(nlu, NLUBackend)
