"""Headless subcommands, one module each.

Every module here is a subcommand named after it (``print_.py`` -> ``print``) and defines::

    HELP: str                                     # one line for ``--help``
    def add_arguments(parser: argparse.ArgumentParser) -> None
    def run(args: argparse.Namespace) -> int      # exit status

Modules import only the standard library at top level so that building the parser stays
cheap; heavy imports (pydicom, numpy, pynetdicom) go inside ``run``. None may import Qt:
``tests/unit/test_architecture.py`` proves it with Qt made unimportable.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

#: Order of subcommands in ``--help``; modules not listed follow alphabetically.
ORDER = ("render", "dump", "scan", "library", "export", "echo", "find", "move", "get", "worklist", "send",
         "print", "print-scp")


def command_name(module_name: str) -> str:
    """``print_`` -> ``print``, ``print_scp`` -> ``print-scp``."""
    return module_name.rstrip("_").replace("_", "-")


def discover() -> dict[str, ModuleType]:
    """Import every subcommand module, keyed by command name, in help order."""
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        found[command_name(info.name)] = importlib.import_module(f"{__name__}.{info.name}")
    rank = {name: i for i, name in enumerate(ORDER)}
    return dict(sorted(found.items(), key=lambda kv: (rank.get(kv[0], len(ORDER)), kv[0])))
