"""Checkpoints that a kill cannot corrupt: written aside, swapped in by rename, the previous one kept.

Each named checkpoint is a directory written by a callback; :meth:`Checkpoints.save` writes it to
``<name>.tmp``, moves the current one to ``<name>.prev`` and renames the new one into place, so at every
moment at least one complete checkpoint exists. :meth:`Checkpoints.resume` loads the newest one that
loads: a truncated or corrupted file is reported by name (a warning) and the previous checkpoint is used.

Examples:
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> ckpt = Checkpoints(root)
    >>> ckpt.save("sft", lambda d: (d / "w.txt").write_text("1"), {"iteration": 1})
    >>> ckpt.save("sft", lambda d: (d / "w.txt").write_text("2"), {"iteration": 2})
    >>> (root / "sft" / "w.txt").write_text("")  # a kill truncated the newest
    0
    >>> def load(d):
    ...     if not (d / "w.txt").read_text(): raise ValueError(f"{d / 'w.txt'} is empty")
    ...     return int((d / "w.txt").read_text())
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     progress, weights = ckpt.resume("sft", load)
    >>> progress, weights, "w.txt is empty" in str(caught[0].message)
    ({'iteration': 1}, 1, True)
"""

from __future__ import annotations

import json
import re
import shutil
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from .rundir import RUN_NAME_PATTERN, RunFileError, read_json, refuse_links, write_atomic

__all__ = ["PROGRESS_FILE", "Checkpoints"]

T = TypeVar("T")
#: The file of a checkpoint that says how far its stage got (written last: its presence means complete).
PROGRESS_FILE = "progress.json"


class Checkpoints:
    """Named checkpoints under ``root`` (one directory each), the previous one of each kept as a fallback."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, name: str) -> Path:
        """The directory of the current checkpoint ``name``.

        Raises:
            ValueError: ``name`` is not a plain name (so nothing outside ``root`` is ever written or removed).
        """
        if not isinstance(name, str) or not re.fullmatch(RUN_NAME_PATTERN, name):
            raise ValueError(f"checkpoint name {name!r} is not a plain name (letters, digits, '_', '-', '.')")
        return self.root / name

    def _candidates(self, name: str) -> list[Path]:
        current = self.path(name)
        return [current, current.with_name(current.name + ".prev")]

    def save(
        self, name: str, write: Callable[[Path], Any], progress: Mapping[str, Any], *, keep_previous: bool = True
    ) -> None:
        """Write checkpoint ``name`` with ``write(directory)``, then its progress; swap it in by rename.

        With ``keep_previous=False`` the previous checkpoint is removed once the new one is in place (a
        stage's last checkpoint, whose fallback would only repeat work already saved): the new one is
        complete when it appears, since its progress file is written last and it is renamed into place.

        Raises:
            ValueError: ``name`` is not a plain name.
            RunLinkError: the checkpoint, its ``.tmp`` or ``.prev``, or a directory above them inside the
                run, is a symbolic link (nothing is written or removed).
        """
        current, previous = self._candidates(name)
        tmp = current.with_name(current.name + ".tmp")
        for path in (current, previous, tmp):
            refuse_links(path)
        if tmp.exists():
            shutil.rmtree(tmp)  # a save a kill interrupted: ours, never swapped in
        tmp.mkdir(parents=True)
        write(tmp)
        write_atomic(tmp / PROGRESS_FILE, json.dumps(dict(progress)))
        if current.exists():
            if previous.exists():
                shutil.rmtree(previous)
            current.rename(previous)
        tmp.rename(current)
        if not keep_previous and previous.exists():
            shutil.rmtree(previous)

    def exists(self, name: str) -> bool:
        """Whether any checkpoint ``name`` (current or previous) was completed."""
        return any((c / PROGRESS_FILE).is_file() for c in self._candidates(name))

    def resume(self, name: str, load: Callable[[Path], T]) -> tuple[dict[str, Any], T] | None:
        """``(progress, load(directory))`` of the newest checkpoint ``name`` that loads, or ``None``.

        A checkpoint whose progress file or whose ``load`` fails (a truncated or corrupted file) is
        reported with a warning naming the problem, and the previous one is tried.
        """
        for candidate in self._candidates(name):
            if not candidate.is_dir():
                continue
            try:
                progress = read_json(candidate / PROGRESS_FILE)
                if not isinstance(progress, dict):
                    raise RunFileError(f"{candidate / PROGRESS_FILE} is not a JSON object")
                return progress, load(candidate)
            except Exception as err:  # any failure to load is a damaged checkpoint: report it, fall back
                warnings.warn(f"checkpoint {candidate} is unusable, trying the previous one: {err}", stacklevel=2)
        return None
