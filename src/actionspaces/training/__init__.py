"""Training infrastructure to import rather than copy: run directories, checkpoints, torch's thread count.

Run directories never lose data, checkpoints keep a fallback, and the thread count follows the cores
the process may use. The reference trainer (``examples/crossha_train.py``) uses them.

Only :func:`set_torch_threads` imports torch (when called), and ``load_pretrained``,
``pretrained_checkpoint`` and ``load_policy`` import their modules on first use. What trains a model
needs the ``train`` extra (``pretrained`` for models by name) and is imported from its own modules: the
policy (:mod:`actionspaces.training.policy`, :mod:`actionspaces.training.tiny`,
:mod:`actionspaces.training.pretrained`), stages that checkpoint and resume
(:mod:`actionspaces.training.stages`) and the SFT and GRPO updates (:mod:`actionspaces.training.updates`).
"""

from .checkpoints import PROGRESS_FILE, Checkpoints
from .rundir import (
    CONFIG_FILE,
    RUN_MARKER,
    RUN_NAME_PATTERN,
    RunFileError,
    RunLinkError,
    append_jsonl,
    create_run,
    open_run,
    read_json,
    read_jsonl,
    refuse_links,
    remove_run,
    run_directory,
    write_atomic,
)
from .threads import available_cores, set_torch_threads

# imported on first use (they need torch and transformers): from actionspaces.training import load_pretrained
_LAZY = {"load_pretrained": "pretrained", "pretrained_checkpoint": "pretrained", "load_policy": "policy"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CONFIG_FILE",
    "PROGRESS_FILE",
    "RUN_MARKER",
    "RUN_NAME_PATTERN",
    "Checkpoints",
    "RunFileError",
    "RunLinkError",
    "append_jsonl",
    "available_cores",
    "create_run",
    "load_policy",
    "load_pretrained",
    "open_run",
    "pretrained_checkpoint",
    "read_json",
    "read_jsonl",
    "refuse_links",
    "remove_run",
    "run_directory",
    "set_torch_threads",
    "write_atomic",
]
