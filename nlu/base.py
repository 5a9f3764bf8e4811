"""The NLU backend interface and the shape of a parse result (Rasa's /model/parse)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

FALLBACK_INTENT = "nlu_fallback"  # below the threshold (Rasa's FallbackClassifier convention)
OUT_OF_SCOPE_INTENT = "out_of_scope"  # internal training intent, always reported as fallback
RANKING_SIZE = 5
RESULT_KEYS = (
    "text",
    "intent",
    "intent_ranking",
    "entities",
    "candidate_entities",
    "language",
)
ENTITY_KEYS = ("entity", "value", "start", "end", "extractor")


@runtime_checkable
class NLUBackend(Protocol):
    """Anything that turns a message into intent, ranking, entities and language."""

    async def parse(self, text: str, lang: str | None = None) -> dict:
        """Parse text; lang None means detect it. Returns the Rasa /model/parse shape."""
        ...

    def language_guess(self, text: str) -> tuple[str, float] | None:
        """(language, confidence) of a raw message, or None when it does not tell (short)."""
        ...


def intent_entry(name: str, confidence: float) -> dict:
    """One {"name", "confidence"} entry of a parse result."""
    return {"name": name, "confidence": round(float(confidence), 4)}


def finalize_intent(ranking: list[tuple[str, float]], threshold: float) -> tuple[dict, list[dict]]:
    """Apply the fallback rules to a (name, confidence) ranking sorted best first.

    out_of_scope on top -> nlu_fallback with its confidence; best below threshold ->
    nlu_fallback with confidence = threshold (Rasa). out_of_scope never appears in the
    returned ranking, which holds at most RANKING_SIZE entries.
    """
    in_scope = [(n, c) for n, c in ranking if n != OUT_OF_SCOPE_INTENT]
    if not ranking:
        fallback = intent_entry(FALLBACK_INTENT, 1.0)
        return fallback, [fallback]
    top_name, top_conf = ranking[0]
    if top_name == OUT_OF_SCOPE_INTENT:
        intent = intent_entry(FALLBACK_INTENT, top_conf)
    elif top_conf < threshold:
        intent = intent_entry(FALLBACK_INTENT, threshold)
    else:
        return intent_entry(top_name, top_conf), [
            intent_entry(n, c) for n, c in in_scope[:RANKING_SIZE]
        ]
    rest = [intent_entry(n, c) for n, c in in_scope[: RANKING_SIZE - 1]]
    return intent, [intent, *rest]
