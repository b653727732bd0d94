"""How many threads torch should use: the cores this process may run on, not the machine's.

torch defaults to one thread per physical core of the machine. Under a CPU affinity mask (``taskset``,
a container's cpuset, a CI runner) or beside another job that is too many: on the project's 2-core
machine a trainer run beside another torch job took 10× its time alone. The count comes from
``os.sched_getaffinity`` where the platform has it.
"""

from __future__ import annotations

import os

__all__ = ["available_cores", "set_torch_threads"]


def available_cores() -> int:
    """The number of cores this process may run on (its affinity mask), at least 1.

    Examples:
        >>> available_cores() >= 1
        True
    """
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def set_torch_threads(threads: int | None = None) -> int:
    """Set torch's intra-op thread count to ``threads`` (the available cores by default) and return it.

    Raises:
        ValueError: ``threads`` is below 1.
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be an int >= 1, got {threads!r}")
    import torch

    count = threads if threads is not None else available_cores()
    torch.set_num_threads(count)
    return count
