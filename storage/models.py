"""Imports every storage module so that Base.metadata knows all tables."""

from __future__ import annotations

import importlib
import pkgutil

import storage
from storage.base import Base

SKIP = {"base", "db", "models", "migrate", "demo", "privacy", "migrations", "demo_data"}

for _module in pkgutil.iter_modules(storage.__path__):
    if _module.name not in SKIP:
        importlib.import_module(f"storage.{_module.name}")

__all__ = ["Base"]
