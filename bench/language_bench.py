"""Language of a new user: how often one message decides the language right, wrong or not.

Run: python bench/language_bench.py [--thresholds 0.8 0.9 0.95]
Trains the language detector as the NLU does (nlu.embedded.train_models: the training data
by folder) and asks LanguageDetector.guess for every message of the held-out sets
(nlu/eval/{de,en}/*.yml, never trained on) as if it were a new user's first message.
Prints, per set and language: messages, decided right, decided wrong, undecided; and which
of a list of texts that must decide nothing (names, numbers, "ok") decided something.
Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlu import default_data_dir
from nlu import language as language_module
from nlu.embedded import classifier_text
from nlu.language import LanguageDetector
from nlu.rasa_yaml import load_files, training_files

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "nlu" / "eval"
# texts that must not decide a language: answers, numbers, names, codes
NEUTRAL = [
    "ok",
    "OK!",
    "👍",
    "1",
    "2",
    "12",
    "10:30",
    "42,50",
    "Ben",
    "Anna",
    "Maria",
    "Mitte",
    "Anna Schmidt",
    "Max Mustermann",
    "Joe Miller",
    "Lena Meyer-Landrut",
    "Ali Yilmaz",
    "K7QF-2M9X",
    "john.doe@example.com",
    "+49 170 1234567",
    "ok 👍",
    "?",
    "...",
    "jobs?",
]


def train() -> LanguageDetector:
    """The detector trained on the training data, as train_models trains it."""
    data_dir = default_data_dir()
    data = load_files(training_files(data_dir), data_dir)
    labelled = [(classifier_text(ex.text), ex.lang) for ex in data.examples if ex.lang]
    return LanguageDetector.fit([t for t, _ in labelled], [lang for _, lang in labelled])


def messages(path: Path) -> list[str]:
    """The example texts of an evaluation file."""
    return [ex.text for ex in load_files([path], EVAL).examples]


def count(detector: LanguageDetector, texts: list[str], want: str) -> tuple[int, int, int]:
    """(decided right, decided wrong, undecided) when each text is a first message."""
    right = wrong = none = 0
    for text in texts:
        guess = detector.guess(classifier_text(text))
        if guess is None:
            none += 1
        elif guess[0] == want:
            right += 1
        else:
            wrong += 1
    return right, wrong, none


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--thresholds", type=float, nargs="*", default=[0.8, language_module.GUESS_CONFIDENCE, 0.95]
    )
    parser.add_argument("--wrong", action="store_true", help="list wrongly decided texts")
    args = parser.parse_args()
    started = time.perf_counter()
    detector = train()
    print(
        f"detector trained in {time.perf_counter() - started:.1f}s; "
        f"guess: >= {language_module.GUESS_WORDS} words, "
        f"confidence >= {language_module.GUESS_CONFIDENCE} (used)"
    )
    sets = [(path.stem, path.parent.name, messages(path)) for path in sorted(EVAL.glob("*/*.yml"))]
    used = language_module.GUESS_CONFIDENCE
    for threshold in args.thresholds:
        language_module.GUESS_CONFIDENCE = threshold
        mark = " (used)" if threshold == used else ""
        print(f"\nconfidence >= {threshold}{mark}")
        print(
            f"  {'set':8} {'lang':4} {'messages':>8} {'right':>14} {'wrong':>6} {'undecided':>10}"
        )
        for name, lang, texts in sets:
            right, wrong, none = count(detector, texts, lang)
            share = right / len(texts) if texts else 0.0
            print(
                f"  {name:8} {lang:4} {len(texts):8} {right:7} ({share:5.1%}) {wrong:6} {none:10}"
            )
            if args.wrong and wrong:
                for text in texts:
                    guess = detector.guess(classifier_text(text))
                    if guess is not None and guess[0] != lang:
                        print(f"      wrong: {text!r} -> {guess[0]} {guess[1]:.2f}")
        decided = [(t, detector.guess(classifier_text(t))) for t in NEUTRAL]
        decided = [(t, g) for t, g in decided if g is not None]
        print(
            f"  neutral texts deciding a language: {len(decided)} of {len(NEUTRAL)}"
            + "".join(f"\n      {t!r} -> {g[0]} {g[1]:.2f}" for t, g in decided)
        )
    language_module.GUESS_CONFIDENCE = used
    texts = [t for _, _, ts in sets for t in ts]
    started = time.perf_counter()
    for text in texts:
        detector.guess(classifier_text(text))
    per = (time.perf_counter() - started) / max(len(texts), 1) * 1e3
    print(f"\nguess: {per:.3f} ms per message (normalising included, {len(texts)} messages)")


if __name__ == "__main__":
    main()
