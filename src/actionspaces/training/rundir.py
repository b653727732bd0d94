"""A training run's directory that never loses data: safe names, owned deletion, files that survive a kill.

* :func:`run_directory` keeps a run's name inside its runs directory (``..``, ``.``, ``/`` and names
  starting with a dot are refused).
* :func:`create_run` marks the directory as written by a run (``.actionspaces-run``); :func:`remove_run`
  deletes only a directory that carries that mark, so ``--overwrite`` can never remove anything else.
* :func:`read_json` names the file it cannot read; :func:`read_jsonl` and :func:`append_jsonl` survive the
  partial last line a kill or a full disk leaves in an append-only log.
* :func:`open_run` puts these together for a trainer: a new run, a resumed one (the same config), or one
  started again with ``overwrite``.
* :func:`write_atomic` writes through a temporary file and a rename, so a reader sees the old file or the
  new one, never half of one.

Nothing here imports torch.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

__all__ = [
    "CONFIG_FILE",
    "RUN_MARKER",
    "RUN_NAME_PATTERN",
    "RunFileError",
    "append_jsonl",
    "create_run",
    "open_run",
    "read_json",
    "read_jsonl",
    "remove_run",
    "run_directory",
    "write_atomic",
]

#: A run's name: letters, digits, ``_``, ``-`` and ``.``, not starting with ``.`` or ``-``.
RUN_NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
#: The file that marks a directory as a run's (and so as one that ``remove_run`` may delete).
RUN_MARKER = ".actionspaces-run"
#: The file in which :func:`open_run` keeps a run's configuration.
CONFIG_FILE = "config.json"


class RunFileError(ValueError):
    """A file of a run directory is missing, truncated or corrupted; the message names it."""


def run_directory(runs_dir: str | Path, name: str) -> Path:
    """``runs_dir / name``, after checking that the name stays inside ``runs_dir``.

    Raises:
        ValueError: the name is empty, ``.`` or ``..``, has a path separator, starts with a dot, or
            resolves outside ``runs_dir`` (through a symbolic link).

    Examples:
        >>> run_directory("runs", "quick").as_posix()
        'runs/quick'
        >>> run_directory("runs", "..")
        Traceback (most recent call last):
        ...
        ValueError: run name '..' is not a plain name (letters, digits, '_', '-', '.', not starting with '.' or '-')
    """
    if not isinstance(name, str) or not re.fullmatch(RUN_NAME_PATTERN, name):
        raise ValueError(
            f"run name {name!r} is not a plain name (letters, digits, '_', '-', '.', not starting with '.' or '-')"
        )
    runs = Path(runs_dir)
    root = runs / name
    if root.is_symlink() or not root.resolve().is_relative_to(runs.resolve()):
        raise ValueError(f"run {name!r} resolves outside {runs} ({root.resolve()}): refusing to use it")
    return root


def create_run(root: Path) -> Path:
    """Create ``root`` (and its parents) and mark it as a run directory; an existing run is kept.

    Raises:
        FileExistsError: ``root`` exists, is not empty and is not a run directory.
    """
    if root.exists() and not (root / RUN_MARKER).is_file() and any(root.iterdir()):
        raise FileExistsError(f"{root} exists and was not written by a run (no {RUN_MARKER}): choose another name")
    root.mkdir(parents=True, exist_ok=True)
    (root / RUN_MARKER).touch()
    return root


def remove_run(root: Path) -> None:
    """Delete the run directory ``root``, and nothing that a run did not write.

    Raises:
        PermissionError: ``root`` is a symbolic link, or a directory without the run marker.
    """
    if not root.exists():
        return
    if root.is_symlink() or not root.is_dir():
        raise PermissionError(f"refusing to delete {root}: it is not a run directory (a link or a file)")
    if not (root / RUN_MARKER).is_file():
        raise PermissionError(f"refusing to delete {root}: it was not written by a run (no {RUN_MARKER} in it)")
    shutil.rmtree(root)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def read_json(path: Path) -> Any:
    """The JSON value in ``path``.

    Raises:
        RunFileError: the file is missing, unreadable or not JSON (truncated, corrupted); the message names it.
    """
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise RunFileError(f"{path} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunFileError(f"{path} is truncated or corrupted ({err})") from None


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of an append-only JSON Lines log; a partial last line (a killed append) is dropped with a warning.

    Raises:
        RunFileError: a line other than the last is not a JSON object (the log is corrupted, not cut short).
    """
    if not path.exists():
        return []
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise RunFileError(f"{path} is unreadable ({err})") from None
    lines = text.split("\n")
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):  # no newline after it: the append that wrote it was cut short
                warnings.warn(f"{path}: dropped a partial last line ({len(line)} characters)", stacklevel=2)
                continue
            raise RunFileError(f"{path} line {number} is not JSON: {line[:80]!r}") from None
        if not isinstance(record, dict):
            raise RunFileError(f"{path} line {number} is not a JSON object: {line[:80]!r}")
        records.append(record)
    return records


def append_jsonl(path: Path, record: Mapping[str, Any]) -> None:
    """Append one record to a JSON Lines log, first cutting off a partial last line a kill left behind."""
    if path.exists() and path.stat().st_size:
        with path.open("rb+") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":  # the last append was cut short: drop its fragment
                data = path.read_bytes()
                f.seek(data.rfind(b"\n") + 1)
                f.truncate()
    with path.open("a") as f:
        f.write(json.dumps(dict(record)) + "\n")
        f.flush()
        os.fsync(f.fileno())


def open_run(runs_dir: str | Path, name: str, config: BaseModel, *, resume: bool, overwrite: bool) -> Path:
    """``runs_dir/name`` ready for a run of ``config``: new, resumed (same config) or started again.

    The configuration is written to ``config.json``. A run that exists is continued only with ``resume``
    and only with the configuration it was started with; ``overwrite`` removes it first, and only if a run
    wrote it (:func:`remove_run`).

    Raises:
        ValueError: the name is not plain or leaves ``runs_dir``; the run exists and neither ``resume`` nor
            ``overwrite`` is given; its ``config.json`` is unreadable or differs from ``config`` (the
            message lists the fields).
        PermissionError: ``overwrite`` of a directory that no run wrote.
        FileExistsError: the directory exists, is not empty and no run wrote it.

    Examples:
        >>> import tempfile
        >>> from pydantic import BaseModel
        >>> class Cfg(BaseModel):
        ...     lr: float = 0.1
        >>> runs = Path(tempfile.mkdtemp())
        >>> open_run(runs, "a", Cfg(), resume=False, overwrite=False).name
        'a'
        >>> open_run(runs, "a", Cfg(lr=0.2), resume=True, overwrite=False)
        Traceback (most recent call last):
        ...
        ValueError: ... was started with a different config (fields ['lr']); use another name
    """
    root = run_directory(runs_dir, name)
    saved = root / CONFIG_FILE
    if overwrite:
        remove_run(root)
    elif saved.is_file():
        if not resume:
            raise ValueError(f"{root} exists: resume it or overwrite it to start again")
        try:
            previous = type(config).model_validate(read_json(saved))
        except (RunFileError, ValidationError) as err:
            raise ValueError(
                f"cannot resume {root}: its {CONFIG_FILE} is unreadable ({err}); restore the file, or overwrite "
                "the run to start again"
            ) from err
        if previous != config:
            changed = sorted(k for k in type(config).model_fields if getattr(previous, k) != getattr(config, k))
            raise ValueError(f"{root} was started with a different config (fields {changed}); use another name")
    create_run(root)
    write_atomic(saved, config.model_dump_json(indent=1))
    return root
