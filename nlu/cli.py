"""The `citybot nlu …` commands: parse, train, validate, evaluate, export-rasa."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from bot.config import Config

logger = logging.getLogger(__name__)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the nlu subcommands to the citybot command line."""
    nlu = sub.add_parser("nlu", parents=[common], help="natural-language understanding")
    nlu_sub = nlu.add_subparsers(dest="nlu_command", required=True)
    parse = nlu_sub.add_parser("parse", parents=[common], help="parse stdin lines to JSON")
    parse.add_argument("--lang", choices=["de", "en"])
    nlu_sub.add_parser("train", parents=[common], help="train and cache the model")
    validate = nlu_sub.add_parser("validate", parents=[common],
                                  help="check the training data (contract, duplicates, clashes)")
    validate.add_argument("--data", type=Path, metavar="DIR",
                          help="training data folder (default: the packaged nlu/data)")
    ev = nlu_sub.add_parser(
        "evaluate", parents=[common],
        help="accuracy, F1, entity P/R and a confusion matrix: on FILE, or by K-fold CV",
    )
    ev.add_argument("file", nargs="?", type=Path, metavar="FILE",
                    help="test data: Rasa YAML (file or folder) or JSONL; none = cross-validate")
    ev.add_argument("--cv", type=int, default=5, metavar="K",
                    help="folds of the cross-validation without FILE (default 5)")
    ev.add_argument("--train", type=Path, metavar="TRAIN.yml",
                    help="train a fresh model on this Rasa YAML (any data, not only citybot's)")
    ev.add_argument("--data", type=Path, metavar="DIR",
                    help="training data folder to cross-validate (default: nlu/data)")
    ev.add_argument("--threshold", type=float,
                    help="fallback threshold (default: nlu.threshold of the config; with "
                         "--train 0, i.e. top-1 intent, as foreign data has no out_of_scope)")
    ev.add_argument("--png", type=Path,
                    help="where to write the confusion matrix (default data/nlu-confusion.png "
                         "next to the config)")
    ev.add_argument("--json", action="store_true", help="print the metrics as JSON")
    ev.add_argument("--errors", type=int, default=0, metavar="N",
                    help="also list up to N misclassified examples")
    export = nlu_sub.add_parser("export-rasa", parents=[common],
                                help="write a Rasa 3 project (config, domain, data/nlu.yml)")
    export.add_argument("dir", type=Path, metavar="DIR")


def run(args: argparse.Namespace, config: Config) -> int:
    """Carry out an nlu subcommand; returns the exit code."""
    from bot.app import build_nlu

    if args.nlu_command == "parse":
        nlu = _nlu_with_catalogue(config)
        if config.nlu.backend == "rasa":
            asyncio.run(_parse_async(nlu, args.lang))
            return 0
        for line in sys.stdin:
            result = nlu.parse_sync(line.rstrip("\n"), args.lang)
            print(json.dumps(result, ensure_ascii=False), flush=True)
        return 0
    if args.nlu_command == "validate":
        return _validate(args.data)
    if args.nlu_command == "evaluate":
        return _evaluate(args, config)
    if args.nlu_command == "export-rasa":
        from nlu import default_data_dir
        from nlu.export_rasa import export
        from nlu.rasa_yaml import load_dir

        for path in export(load_dir(default_data_dir()), args.dir,
                           threshold=config.nlu.threshold):
            print(path)
        return 0
    started = time.perf_counter()
    nlu = build_nlu(config)
    took = time.perf_counter() - started
    source = "trained" if nlu.train_seconds else "loaded from cache"
    print(f"model {source} in {took:.2f} s")
    return 0


def _nlu_with_catalogue(config: Config) -> Any:
    """The configured backend with districts (later shops, schools) from the database."""
    from bot.app import build_nlu, catalogue_from_database

    nlu = build_nlu(config)
    try:
        asyncio.run(catalogue_from_database(config, getattr(nlu, "embedded", nlu)))
    except Exception as exc:  # parsing still works, only catalogue entities are missing
        logger.warning("no catalogue from the database (%s): location entities are off",
                       type(exc).__name__)
    return nlu


async def _parse_async(nlu: Any, lang: str | None) -> None:
    """Parse stdin lines through an async backend (the Rasa server)."""
    try:
        for line in sys.stdin:
            result = await nlu.parse(line.rstrip("\n"), lang)
            print(json.dumps(result, ensure_ascii=False), flush=True)
    finally:
        await nlu.close()


def _validate(data_dir: Path | None) -> int:
    from nlu import default_data_dir
    from nlu.validate import validate_dir

    findings = validate_dir(data_dir or default_data_dir())
    for message in findings.errors:
        print(f"error: {message}")
    for message in findings.warnings:
        print(f"warning: {message}")
    print(f"{len(findings.errors)} errors, {len(findings.warnings)} warnings")
    return 0 if findings.ok else 1


def _evaluate(args: argparse.Namespace, config: Config) -> int:
    from nlu import EmbeddedNLU, default_data_dir
    from nlu.rasa_yaml import load_dir, load_files
    from nlu.report import (
        CV_UNSCORED_ENTITIES,
        build_report,
        cross_validate,
        evaluate_file,
        format_report,
        write_confusion_png,
    )

    threshold = args.threshold
    if threshold is None:
        threshold = 0.0 if args.train is not None else config.nlu.threshold
    if args.train is not None:
        if args.file is None:
            print("error: --train needs a test FILE", file=sys.stderr)
            return 2
        data = load_files([args.train], args.train.parent)
        nlu = EmbeddedNLU.from_training_data(data, threshold=threshold, foreign=True,
                                             sentence_vectors=config.nlu.sentence_vectors)
        report = evaluate_file(nlu, args.file)
        report.seconds = {"training time": nlu.train_seconds, **report.seconds}
    elif args.file is not None:
        report = evaluate_file(_nlu_with_catalogue(config), args.file)
    else:
        if args.cv < 2:
            print("error: --cv needs at least 2 folds", file=sys.stderr)
            return 2
        started = time.perf_counter()
        preds, per_fold = cross_validate(load_dir(args.data or default_data_dir()), folds=args.cv,
                                         threshold=threshold,
                                         sentence_vectors=config.nlu.sentence_vectors)
        report = build_report(preds)
        report.seconds = {"training time per fold": per_fold,
                          f"{args.cv}-fold CV time": time.perf_counter() - started}
    png = args.png or config.resolve_path("data/nlu-confusion.png")
    write_confusion_png(report, png)
    if args.json:
        print(json.dumps({**report.as_dict(), "png": str(png)}, ensure_ascii=False))
    else:
        title = (f"{args.cv}-fold cross-validation of the training data" if args.file is None
                 else f"evaluation on {args.file}")
        print(title + f" (threshold {threshold})")
        if args.file is None:
            print("entities: " + ", ".join(sorted(CV_UNSCORED_ENTITIES))
                  + " are scored on a test FILE only (database catalogue / rules)")
        print(format_report(report))
        for text, gold, pred in report.misses[: args.errors]:
            print(f"  miss: {gold} -> {pred}: {text}")
        print(f"confusion matrix: {png}")
    return 0
