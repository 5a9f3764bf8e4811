"""The `citybot nlu …` commands: parse stdin lines to JSON, train and cache the model."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from bot.config import Config


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the nlu subcommands to the citybot command line."""
    nlu = sub.add_parser("nlu", parents=[common], help="natural-language understanding")
    nlu_sub = nlu.add_subparsers(dest="nlu_command", required=True)
    parse = nlu_sub.add_parser("parse", parents=[common], help="parse stdin lines to JSON")
    parse.add_argument("--lang", choices=["de", "en"])
    nlu_sub.add_parser("train", parents=[common], help="train and cache the model")


def run(args: argparse.Namespace, config: Config) -> int:
    """Carry out an nlu subcommand; returns the exit code."""
    from bot.app import build_nlu

    if args.nlu_command == "parse":
        nlu = build_nlu(config)
        for line in sys.stdin:
            result = nlu.parse_sync(line.rstrip("\n"), args.lang)
            print(json.dumps(result, ensure_ascii=False), flush=True)
        return 0
    started = time.perf_counter()
    nlu = build_nlu(config)
    took = time.perf_counter() - started
    source = "trained" if nlu.train_seconds else "loaded from cache"
    print(f"model {source} in {took:.2f} s")
    return 0
