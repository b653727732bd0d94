"""Worst-case parse time against input size: the adversarial shapes, through ``asp.parse``.

Each shape is grown to each size (characters) and parsed once (best of ``--repeats``); the table gives the
time per call and the ratio to the previous size (2.0 for a doubling means linear, 4.0 quadratic). A shape
that runs past ``--budget`` seconds at one size is not grown further.

    python benchmarks/bench_parse_growth.py [--sizes 12500 25000 50000 100000 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import actionspaces as asp

RT = "<|reserved_special_token_178|>"


def grow(unit: str, head: str = "", tail: str = "") -> Callable[[int], str]:
    """A shape: ``head`` + ``unit`` repeated to about ``size`` characters + ``tail``."""

    def make(size: int) -> str:
        return head + unit * max(1, (size - len(head) - len(tail)) // len(unit)) + tail

    return make


#: The shapes the issue measured, and the reasoning dialect's own (prose and tags).
SHAPES: dict[str, Callable[[int], str]] = {
    "Action: no_op + spaces + x": grow(" ", "Action: no_op", "x"),
    "<raw> * n": grow("<raw>"),
    "<raw></raw> + reserved 178 * n": grow(RT, "<raw></raw>"),
    "Action: x\\n * n": grow("Action: x\n"),
    "Action: no_op\\n * n (valid)": grow("Action: no_op\n"),
    "prose * n + <grounding>": grow("The cursor is at cursor(5,3). ", "", "<grounding>move_to (1,2)</grounding>"),
    "</grounding> * n": grow("</grounding>"),
    "<|im_end|> * n": grow("<|im_end|>", "Action: no_op"),
    "newline + spaces + x": grow(" ", "Action: no_op\n", "x"),
    "Grounding: Mine ( * n": grow("(", "Grounding: Mine "),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[12_500, 25_000, 50_000, 100_000, 1_000_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--budget", type=float, default=5.0, help="stop growing a shape past this many seconds")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    print(f"{'shape':34s} " + " ".join(f"{s:>14,d}" for s in args.sizes))
    for name, make in SHAPES.items():
        cells: list[str] = []
        previous: float | None = None
        for size in args.sizes:
            if previous is not None and previous > args.budget:
                cells.append(f"{'-':>14s}")
                continue
            text = make(size)
            best = float("inf")
            for _ in range(args.repeats if previous is None or previous < 1 else 1):
                t0 = time.perf_counter()
                asp.parse(text)
                best = min(best, time.perf_counter() - t0)
            ratio = f"{best / previous:4.1f}×" if previous else "     "
            cells.append(f"{best * 1e3:8.2f}ms {ratio}")
            previous = best
        print(f"{name:34s} " + " ".join(f"{c:>14s}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
