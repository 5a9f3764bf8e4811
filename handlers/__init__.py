"""Service handlers: one module per service, each registers its routes on import."""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> list[str]:
    """Import every handler module (so its routes register); returns their names."""
    names = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{module.name}")
        names.append(module.name)
    return names
