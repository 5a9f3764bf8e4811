"""NLU benchmark: parse latency and throughput, training time, model memory, CV accuracy, HWU64.

Run: python bench/nlu_bench.py [--parses 5000] [--folds 5] [--no-cv] [--no-hwu]
Prints its figures; it asserts nothing (speed is measured, not asserted).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlu import EmbeddedNLU, default_data_dir
from nlu.embedded import DENSE_GATE, classifier_text
from nlu.rasa_yaml import load_dir, load_files
from nlu.report import build_report, cross_validate, evaluate_file, load_examples
from nlu.sentence import load_encoder

ROOT = Path(__file__).resolve().parent.parent
HWU = ROOT.parent / "shared" / "benchmarks" / "hwu64"
THRESHOLD = 0.45
MESSAGES = [
    "ich suche arbeit in der pflege in der innenstadt",
    "any nursing jobs in the city centre?",
    "gutschein K7QF-2M9X über 12,50 einlösen",
    "wir brauchen 200 ffp2 masken",
    "sign me up for the parent evening on thursday",
    "hallo",
    "wie wird das wetter morgen",
    "ich möchte einen gutschein über 25 euro für die buchhandlung",
    "meine mama braucht arbeit als pflegerin",
    "unfollow the bookshop",
]


def rss_mb() -> float:
    """Current resident memory of this process in MB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * 4096 / 2**20


def model_bytes(nlu: EmbeddedNLU) -> int:
    """Bytes of the numpy arrays of the intent, dense and language models (vocab dicts excluded)."""
    total = 0
    for model in (nlu.intent_model, getattr(nlu.detector, "model", None)):
        if model is not None:
            total += model.weights.nbytes + model.idf.nbytes + model.intercept.nbytes
    if nlu.dense is not None:
        total += sum(a.nbytes for a in (nlu.dense.w1, nlu.dense.b1, nlu.dense.w2, nlu.dense.b2))
    return total


def unseen_texts() -> list[str]:
    """Messages the model was not trained on (the held-out file), each parsed once below."""
    heldout = ROOT / "nlu" / "eval" / "*" / "*.yml"
    examples = load_examples(heldout)
    return list(dict.fromkeys([*MESSAGES, *(ex.text for ex in examples)]))


def latency(nlu: EmbeddedNLU, parses: int) -> None:
    for text in ("hallo", "hello"):  # warm up
        nlu.parse_sync(text)
    texts = unseen_texts()
    times = []
    for text in texts:  # first sight of each text: the encoder's cache does not help
        started = time.perf_counter()
        nlu.parse_sync(text)
        times.append(time.perf_counter() - started)
    times.sort()
    p50 = statistics.median(times) * 1000
    p99 = times[int(len(times) * 0.99) - 1] * 1000
    unsure = sum(nlu.intent_model.proba(classifier_text(t)).max() < DENSE_GATE for t in texts)
    print(f"parse latency: p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {times[-1] * 1000:.2f} ms "
          f"({len(texts)} different unseen messages, language detection on; the sentence "
          f"encoder ran for {unsure / len(texts):.0%} of them)")
    started = time.perf_counter()
    for i in range(parses):
        nlu.parse_sync(MESSAGES[i % len(MESSAGES)], "de")
    took = time.perf_counter() - started
    print(f"throughput: {parses / took:,.0f} parses/s (one core, lang given, {len(MESSAGES)} "
          f"messages repeated)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parses", type=int, default=5000)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-cv", action="store_true")
    parser.add_argument("--no-hwu", action="store_true")
    args = parser.parse_args()

    data = load_dir(default_data_dir())
    print(f"training data: {len(data.examples)} examples, {len(data.intents)} intents, "
          f"languages {data.languages}")
    with tempfile.TemporaryDirectory() as cache:
        gc.collect()
        before = rss_mb()
        started = time.perf_counter()
        encoder = load_encoder()
        encoder_growth = rss_mb() - before
        if encoder is not None:
            print(f"sentence encoder {encoder.version}: loaded in "
                  f"{time.perf_counter() - started:.2f} s, resident growth {encoder_growth:.1f} MB")
        started = time.perf_counter()
        nlu = EmbeddedNLU.from_data(default_data_dir(), threshold=THRESHOLD,
                                    cache_dir=Path(cache))
        trained = time.perf_counter() - started
        print(f"training (n-gram and dense intent models + language detector, incl. "
              f"loading the YAML and embedding the examples): {trained:.2f} s")
        del nlu
        gc.collect()
        before = rss_mb()
        started = time.perf_counter()
        nlu = EmbeddedNLU.from_data(default_data_dir(), threshold=THRESHOLD,
                                    cache_dir=Path(cache))
        loaded = time.perf_counter() - started
        gc.collect()
        after = rss_mb()
        print(f"loading the cached model: {loaded:.2f} s")
        print(f"model memory: {model_bytes(nlu) / 2**20:.1f} MB of weight arrays, "
              f"resident growth on load {after - before:.1f} MB "
              f"({len(nlu.intent_model.vocab):,} intent features x "
              f"{len(nlu.intent_model.classes)} classes); with the encoder "
              f"{after - before + encoder_growth:.1f} MB")
        latency(nlu, args.parses)

    if not args.no_cv:
        started = time.perf_counter()
        preds, per_fold = cross_validate(data, folds=args.folds, threshold=THRESHOLD)
        report = build_report(preds)
        langs = " ".join(f"{k} {v:.3f}" for k, v in report.accuracy_by_lang.items())
        print(f"{args.folds}-fold CV intent accuracy: {report.accuracy:.3f} ({langs}), "
              f"macro F1 {report.macro_f1:.3f}, out-of-scope -> fallback "
              f"{report.intents['nlu_fallback'].recall:.3f}; "
              f"{per_fold:.1f} s training per fold, {time.perf_counter() - started:.0f} s total")

    for name in ("heldout", "hard"):
        report = evaluate_file(nlu, ROOT / "nlu" / "eval" / "*" / f"{name}.yml")
        langs = " ".join(f"{k} {v:.3f}" for k, v in report.accuracy_by_lang.items())
        ents = " ".join(f"{k} {v.precision:.2f}/{v.recall:.2f}" for k, v in
                        report.entities.items() if v.support)
        print(f"{name} ({report.n} utterances): accuracy {report.accuracy:.3f} ({langs}), "
              f"out-of-scope -> fallback {report.intents['nlu_fallback'].recall:.3f}; "
              f"entity P/R {ents}")

    if not args.no_hwu and (HWU / "fold1_train.yml").exists():
        train = load_files([HWU / "fold1_train.yml"], HWU)
        started = time.perf_counter()
        hwu = EmbeddedNLU.from_training_data(train, threshold=0.0, foreign=True)
        took = time.perf_counter() - started
        report = evaluate_file(hwu, HWU / "fold1_test.yml")
        e = report.entity_micro
        print(f"HWU64 fold 1 ({len(train.examples)} train / {report.n} test): intent accuracy "
              f"{report.accuracy:.3f} (Rasa 3.6 on this fold: 0.864), macro F1 "
              f"{report.macro_f1:.3f}, entity micro P/R/F1 {e.precision:.3f}/{e.recall:.3f}/"
              f"{e.f1:.3f} (Rasa CRF: F1 0.752), training {took:.1f} s (Rasa: 281 s)")


if __name__ == "__main__":
    main()
