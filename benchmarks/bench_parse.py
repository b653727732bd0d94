"""Parser throughput: actions per second for each space and for ChainSpace, beside OpenHA's regex decoder.

The corpus is at least 10,000 *distinct* strings per space, generated with ``sample`` + ``render`` (so it
looks like model output in the canonical form, with the spread of keys, clicks and numbers a policy
writes). Every row is measured in the same run, on one core, best of ``--repeats`` passes; the ratio to
the baseline is what to compare across machines.

    python benchmarks/bench_parse.py [--n 10000] [--repeats 5] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from actionspaces import ChainSpace, GroundingSpace, LanguageSpace, LatentSpace, MotionSpace, RawSpace
from actionspaces.compat import openha_decode_raw
from actionspaces.space import _compiled


def distinct_texts(render: Callable[[np.random.Generator], str], n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    seen: dict[str, None] = {}
    attempts = 0
    while len(seen) < n:
        seen[render(rng)] = None
        attempts += 1
        if attempts > 50 * n:
            raise RuntimeError(f"could not generate {n} distinct strings (got {len(seen)})")
    return list(seen)


def rate(fn: Callable[[str], Any], texts: Sequence[str], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for text in texts:
            fn(text)
        best = min(best, time.perf_counter() - t0)
    return len(texts) / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000, help="distinct strings per corpus (default 10000)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    raw = RawSpace()
    spaces = [raw, GroundingSpace(), MotionSpace(), LanguageSpace(), LatentSpace()]
    chain = ChainSpace()
    corpora = {s.name: distinct_texts(lambda g, s=s: s.render(s.sample(g)), args.n, args.seed) for s in spaces}
    corpora["chain"] = distinct_texts(lambda g: chain.render(chain.sample(g)), args.n, args.seed)
    raw_texts = corpora["raw"]
    # every corpus must parse, or the numbers would measure error paths
    for s in spaces:
        assert all(s.parse(t) is not None for t in corpora[s.name][:500])

    baseline = rate(openha_decode_raw, raw_texts, args.repeats)
    lark_raw = _compiled(RawSpace)
    rows: list[tuple[str, int, float]] = [
        ("raw: OpenHA regex decode (baseline)", len(raw_texts), baseline),
        ("raw: parse", len(raw_texts), rate(raw.parse, raw_texts, args.repeats)),
        (
            "raw: parse + canonicalize",
            len(raw_texts),
            rate(lambda t: raw.canonicalize(raw.parse(t)), raw_texts, args.repeats),
        ),
        (
            "raw: grammar only (no fast path)",
            len(raw_texts),
            rate(lambda t: lark_raw.parse(t[len("Action: ") :]), raw_texts, args.repeats),
        ),
    ]
    for s in spaces[1:]:
        rows.append((f"{s.name}: parse", len(corpora[s.name]), rate(s.parse, corpora[s.name], args.repeats)))
    rows.append(
        (
            "chain: parse (all levels)",
            len(corpora["chain"]),
            rate(chain.parse, corpora["chain"], args.repeats),
        )
    )

    print(f"{'corpus':40s} {'strings':>8s} {'actions/s':>12s} {'vs baseline':>12s}")
    for name, n, r in rows:
        print(f"{name:40s} {n:8d} {r:12,.0f} {r / baseline:11.2f}×")
    raw_rate = rows[1][2]
    verdict = "meets" if raw_rate >= 20_000 else "MISSES"
    print(f"\nraw parse: {raw_rate:,.0f} actions/s on one core — {verdict} the 20,000/s target")


if __name__ == "__main__":
    main()
