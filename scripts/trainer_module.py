"""The reference trainer as a module, for the scripts that measure its runs (it is a script, not a package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

TRAINER = Path(__file__).resolve().parents[1] / "examples" / "crossha_train.py"


def load_trainer() -> ModuleType:
    """``examples/crossha_train.py`` loaded by path, registered as ``crossha_train``."""
    spec = importlib.util.spec_from_file_location("crossha_train", TRAINER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["crossha_train"] = module
    spec.loader.exec_module(module)
    return module
