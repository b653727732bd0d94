"""One configuration trained once per seed: the seed list, the sweep's record, and the loop over seeds.

A sweep lives in ``runs/<name>/``: its ``config.json`` is a :class:`Sweep` (the configuration and the
seeds), and each seed is an ordinary run of the configuration with that ``seed`` in ``seed-<s>/``, resumed
independently, so a sweep interrupted after any seed continues where it stopped.

Examples:
    >>> import tempfile
    >>> from pydantic import BaseModel
    >>> class Cfg(BaseModel):
    ...     seed: int = 0
    ...     lr: float = 0.1
    >>> runs = run_seeds(Path(tempfile.mkdtemp()), Cfg(), parse_seeds("0,2"), lambda cfg, root: (cfg.seed, root.name),
    ...                  resume=False)
    >>> runs
    [(0, 'seed-0'), (2, 'seed-2')]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from .rundir import RunFileError, open_run

__all__ = ["Sweep", "parse_seeds", "run_seeds"]

C = TypeVar("C", bound=BaseModel)
R = TypeVar("R")


class Sweep(BaseModel, Generic[C]):
    """A multi-seed run (``runs/<name>/config.json``): the configuration, and the seeds each run of it uses."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    config: C
    seeds: tuple[int, ...] = Field(min_length=1)


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0,1,2"`` (or ``"0 1 2"``) -> ``(0, 1, 2)``: distinct non-negative integers.

    Raises:
        ValueError: a part is not an integer, or the seeds are none, repeated or negative.
    """
    try:
        seeds = tuple(int(part) for part in text.replace(",", " ").split())
    except ValueError:
        raise ValueError(f"seeds are integers separated by commas, got {text!r}") from None
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise ValueError(f"seeds are distinct non-negative integers, got {text!r}")
    return seeds


def run_seeds(
    root: str | Path, config: C, seeds: Sequence[int], train: Callable[[C, Path], R], *, resume: bool
) -> list[R]:
    """``train(config with seed s, root/seed-<s>)`` for every seed in turn, each run opened by :func:`open_run`.

    ``config`` must have a ``seed`` field. A seed's directory that exists is resumed only with ``resume``
    (and only with the same configuration); it is never overwritten.

    Raises:
        RunFileError: a seed's run cannot be opened (the message names the seed and why).
    """
    results = []
    for seed in seeds:
        seeded = config.model_copy(update={"seed": seed})
        try:
            seed_root = open_run(root, f"seed-{seed}", seeded, resume=resume, overwrite=False)
        except (ValueError, OSError) as err:
            raise RunFileError(f"seed {seed}: {err}") from err
        results.append(train(seeded, seed_root))
    return results
