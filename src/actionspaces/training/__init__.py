"""Training infrastructure to import rather than copy: run directories, checkpoints, torch's thread count.

Run directories never lose data, checkpoints keep a fallback, and the thread count follows the cores
the process may use. The reference trainer (``examples/crossha_train.py``) uses them.

Only :func:`set_torch_threads` imports torch (when called). What trains a model needs the ``train`` extra
and is imported from its own modules: the policy (:mod:`actionspaces.training.policy`,
:mod:`actionspaces.training.tiny`), stages that checkpoint and resume (:mod:`actionspaces.training.stages`)
and the SFT and GRPO updates (:mod:`actionspaces.training.updates`).
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
    "open_run",
    "read_json",
    "read_jsonl",
    "refuse_links",
    "remove_run",
    "run_directory",
    "set_torch_threads",
    "write_atomic",
]
