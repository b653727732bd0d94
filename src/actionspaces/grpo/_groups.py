"""Turning group labels into contiguous integer ids, shared by the advantage estimators."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import torch

__all__ = ["GroupSpec", "group_index", "hashable"]

#: How rows are grouped: an ``int`` G (consecutive blocks of G rows, as TRL lays out its generations), a
#: 1-D integer tensor or array of ids (verl's ``uid``), or a sequence of hashable labels.
GroupSpec = int | torch.Tensor | np.ndarray[Any, Any] | Sequence[Hashable]


def hashable(value: object) -> Hashable:
    """A hashable key for ``value``; numpy arrays and tensors become (shape, dtype, bytes)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return (value.shape, value.dtype.str, value.tobytes())
    if isinstance(value, list):
        return tuple(hashable(v) for v in value)
    try:
        hash(value)
    except TypeError as err:
        raise TypeError(f"group or anchor label {value!r} is not hashable") from err
    return value


def group_index(groups: GroupSpec, n: int, *, what: str = "groups") -> tuple[torch.Tensor, int]:
    """``(index, num_groups)``: a dense id in ``[0, num_groups)`` for each of ``n`` rows.

    Examples:
        >>> group_index(2, 4)
        (tensor([0, 0, 1, 1]), 2)
        >>> group_index(["b", "a", "b"], 3)
        (tensor([0, 1, 0]), 2)
    """
    if isinstance(groups, bool):
        raise TypeError(f"{what} must be an int group size or one label per row, got a bool")
    if isinstance(groups, int):
        if groups < 1:
            raise ValueError(f"{what}: the group size must be >= 1, got {groups}")
        if n % groups:
            raise ValueError(f"{what}: {n} rows do not split into whole groups of {groups}")
        return torch.arange(n) // groups, n // groups
    if isinstance(groups, torch.Tensor):
        groups = groups.detach().cpu().numpy()
    if isinstance(groups, np.ndarray):
        if groups.ndim != 1:
            raise ValueError(f"{what} must be 1-D (one label per row), got shape {tuple(groups.shape)}")
        if groups.dtype.kind in "iub":
            if len(groups) != n:
                raise ValueError(f"{what} has {len(groups)} labels for {n} rows")
            uniq, inverse = np.unique(groups, return_inverse=True)
            return torch.from_numpy(inverse.astype(np.int64)), len(uniq)
    labels = list(groups)
    if len(labels) != n:
        raise ValueError(f"{what} has {len(labels)} labels for {n} rows")
    dense: dict[Hashable, int] = {}
    index = [dense.setdefault(hashable(label), len(dense)) for label in labels]
    return torch.tensor(index, dtype=torch.long), len(dense)
