"""Training infrastructure to import rather than copy: run directories, checkpoints, torch's thread count.

Run directories never lose data, checkpoints keep a fallback, and the thread count follows the cores
the process may use. The reference trainer (``examples/crossha_train.py``) uses them.

Only :func:`set_torch_threads` imports torch (when called). The policy (:mod:`actionspaces.training.policy`,
:mod:`actionspaces.training.tiny`) needs the ``train`` extra and is imported from its own modules.
"""

from .checkpoints import PROGRESS_FILE, Checkpoints
from .rundir import (
    RUN_MARKER,
    RUN_NAME_PATTERN,
    RunFileError,
    append_jsonl,
    create_run,
    read_json,
    read_jsonl,
    remove_run,
    run_directory,
    write_atomic,
)
from .threads import available_cores, set_torch_threads

__all__ = [
    "PROGRESS_FILE",
    "RUN_MARKER",
    "RUN_NAME_PATTERN",
    "Checkpoints",
    "RunFileError",
    "append_jsonl",
    "available_cores",
    "create_run",
    "read_json",
    "read_jsonl",
    "remove_run",
    "run_directory",
    "set_torch_threads",
    "write_atomic",
]
