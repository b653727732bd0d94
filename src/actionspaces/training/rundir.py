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
* :func:`refuse_links` keeps a run a closed world: every file the library writes, appends, replaces or
  deletes under a run goes through it, and a symbolic link found anywhere between the run's directory and
  that file is refused (:class:`RunLinkError`) rather than followed to a file outside the run.

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
    "RunLinkError",
    "append_jsonl",
    "create_run",
    "open_run",
    "read_json",
    "read_jsonl",
    "refuse_links",
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


class RunLinkError(RunFileError, PermissionError):
    """A symbolic link sits where a run keeps its files; the library never writes through it."""


def _run_root(path: Path) -> Path | None:
    """The nearest directory above ``path`` that carries the run marker, or ``None``."""
    for parent in path.parents:
        marker = parent / RUN_MARKER
        if marker.is_file() and not marker.is_symlink():
            return parent
    return None


def refuse_links(path: str | Path) -> Path:
    """``path``, after checking that nothing from its run's directory down to it is a symbolic link.

    A run is the nearest directory above ``path`` that carries :data:`RUN_MARKER`; every component from
    there down (the run's directory and the file itself included) must be a real directory or file, or not
    exist yet. Outside any run only ``path`` itself is checked. Every write, append, replace and delete the
    library makes under a run calls this first.

    Raises:
        RunLinkError: a component is a symbolic link (the message names it and where it points).

    Examples:
        >>> import tempfile
        >>> root = create_run(Path(tempfile.mkdtemp()) / "run")
        >>> refuse_links(root / "metrics.jsonl").name
        'metrics.jsonl'
        >>> (root / "checkpoints").symlink_to(tempfile.mkdtemp())
        >>> refuse_links(root / "checkpoints" / "sft")
        Traceback (most recent call last):
        ...
        actionspaces.training.rundir.RunLinkError: refusing to write through .../checkpoints: it is a symbolic link ...
    """
    path = Path(path)
    root = _run_root(path)
    checked = [path] if root is None else [path, *path.parents[: len(path.parents) - len(root.parents)]]
    for part in checked:
        if part.is_symlink():
            raise RunLinkError(
                f"refusing to write through {part}: it is a symbolic link (to {os.readlink(part)}), and a run "
                "writes only its own files; remove the link"
            )
    return path


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
        FileExistsError: ``root`` is a file, or exists, is not empty and is not a run directory.
        RunLinkError: ``root`` or its marker is a symbolic link (or the marker a directory).
    """
    if root.is_symlink():
        raise RunLinkError(f"refusing to use {root} as a run directory: it is a symbolic link (to {os.readlink(root)})")
    if root.exists() and not root.is_dir():
        raise FileExistsError(f"{root} exists and is not a directory: choose another name")
    marker = root / RUN_MARKER
    if marker.is_symlink() or (marker.exists() and not marker.is_file()):
        raise RunLinkError(f"{marker} is not the run's own marker file (a link or a directory): remove it")
    if root.exists() and not marker.is_file() and any(root.iterdir()):
        raise FileExistsError(f"{root} exists and was not written by a run (no {RUN_MARKER}): choose another name")
    root.mkdir(parents=True, exist_ok=True)
    marker.touch()
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


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # not on Windows, where refuse_links alone guards


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file (``<name>.tmp``) and a rename.

    Raises:
        RunLinkError: ``path``, its temporary file or a directory between it and its run is a symbolic link.
        RunFileError: ``path`` is a directory.
    """
    path = refuse_links(path)
    tmp = refuse_links(path.with_name(path.name + ".tmp"))
    if path.is_dir():
        raise RunFileError(f"cannot write {path}: it is a directory")
    if tmp.is_dir():
        raise RunFileError(f"cannot write {path}: its temporary file {tmp} is a directory")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
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


def _record(line: bytes) -> dict[str, Any] | None:
    """The JSON object on ``line``, or ``None`` when it is not one (not UTF-8, not JSON, not an object)."""
    try:
        record = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of an append-only JSON Lines log.

    A last line that does not parse (what a kill during an append leaves) is dropped with a warning; a
    complete last record is kept even without its newline. :func:`append_jsonl` draws the same line.

    Raises:
        RunFileError: the log is unreadable, or a line other than the last is not a JSON object (the log is
            corrupted, not cut short); the message names the file and the line.
    """
    if not path.exists():
        return []
    if path.is_dir():
        raise RunFileError(f"{path} is a directory, not a JSON Lines log")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise RunFileError(f"{path} is unreadable ({err})") from None
    lines = data.split(b"\n")
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        record = _record(line)
        if record is None:
            if number == len(lines):  # no newline after it: the append that wrote it was cut short
                warnings.warn(f"{path}: dropped a partial last line ({len(line)} bytes)", stacklevel=2)
                continue
            raise RunFileError(f"{path} line {number} is not a JSON object: {line[:80]!r}")
        records.append(record)
    return records


def append_jsonl(path: Path, record: Mapping[str, Any]) -> None:
    """Append one record to a JSON Lines log, never losing a complete one.

    A last line without its newline is completed when it parses (a record whose newline was lost) and cut
    off when it does not (a fragment a kill left), exactly as :func:`read_jsonl` reads it.

    Raises:
        RunLinkError: the log, or a directory between it and its run, is a symbolic link.
        TypeError, ValueError: ``record`` is not JSON-serialisable (nothing is written).
    """
    line = (json.dumps(dict(record)) + "\n").encode("utf-8")
    path = refuse_links(path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o644)
    with os.fdopen(fd, "rb+") as f:
        size = f.seek(0, os.SEEK_END)
        if size:
            f.seek(size - 1)
            if f.read(1) != b"\n":
                f.seek(0)
                data = f.read()
                start = data.rfind(b"\n") + 1
                if _record(data[start:]) is not None:
                    f.write(b"\n")  # a complete record that lost its newline: keep it
                else:
                    f.truncate(start)  # a torn fragment: drop it
                    f.seek(start)
        f.write(line)
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
        RunFileError: (a ``ValueError``) its ``config.json`` is a directory or a link.
        RunLinkError: (a ``RunFileError`` and a ``PermissionError``) a link where the run keeps a file.
        PermissionError: ``overwrite`` of a directory that no run wrote.
        FileExistsError: the path is a file, or a directory that is not empty and that no run wrote.

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
    if root.exists() and not root.is_dir():
        raise FileExistsError(f"{root} exists and is not a directory: choose another name")
    if overwrite:
        remove_run(root)
    elif saved.is_symlink() or (saved.exists() and not saved.is_file()):
        raise RunFileError(f"{saved} is not a file (a link or a directory): remove it, or overwrite the run")
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
