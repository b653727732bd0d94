"""Parser throughput: responses per second for each space, the chain and the reasoning dialect, beside OpenHA's regex.

The corpora are at least 10,000 *distinct* strings each, generated with ``sample`` + ``render`` (so they look
like model output in the canonical form, with the spread of keys, clicks and numbers a policy writes), and
for the reasoning dialect responses in the style of OpenHA's RL models (prose around ``<skill>``,
``<grounding>`` and ``<raw>`` tags). Every row is measured in the same run, on one core, rows interleaved
and the best of ``--repeats`` passes kept (this machine's speed drifts by ±30 % within a minute); the ratio
to the baseline, OpenHA's own regex decoder of the raw form, is what to compare across machines. Every
parse is a full parse: typed, validated actions, errors with positions.

    python benchmarks/bench_parse.py [--n 10000] [--repeats 7] [--seed 0]
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
from actionspaces.space import grammar_source as _grammar_source

TASKS = ("craft the item: oak_door", "mine the block: oak_log", "kill the entity: sheep", "craft the item: lead")
OBJECTS = ("recipe book", "crafting slot", "an empty slot", "'show all'", "oak log", "sheep", "the result slot")
SKILLS = ("Open the recipe book", "Click the item {} in the crafting slot", "Put the item {} in an empty slot")
RAW_WORDS = ("", "", "", "", "attack", "forwardjump", "camera move -3,5", "hotbar 2use")


def reasoning_response(g: np.random.Generator) -> str:
    """A response in the reasoning dialect of OpenHA's RL models, with random task, objects and points."""

    def pick(options: Sequence[str]) -> str:
        return options[int(g.integers(len(options)))]

    def point() -> str:
        return f"({int(g.integers(1000))},{int(g.integers(1000))})"

    task, obj = pick(TASKS), pick(OBJECTS)
    item = task.split(": ")[1]
    verb = pick(("move_to", "move_to", "left_click", "right click", f"Mine {obj}"))
    return (
        f"My task is to {task}. I need to act on {obj}. The Skill ACTION is <skill>{pick(SKILLS).format(item)}"
        f"</skill>. The cursor is located atcursor{point()}\n. The object: {obj} is located at{obj}{point()}\n. "
        f"The cursor is not on the object: {obj}. The Grounding action is <grounding> {verb} {point()}\n"
        f"</grounding>. The Raw ACTION is <raw>{pick(RAW_WORDS)}</raw>."
    )


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


def rates(rows: dict[str, tuple[Callable[[str], Any], list[str]]], repeats: int) -> dict[str, float]:
    """Responses per second of each row: the best of ``repeats`` passes, the rows interleaved."""
    best = dict.fromkeys(rows, float("inf"))
    for _ in range(repeats):
        for name, (fn, texts) in rows.items():
            t0 = time.perf_counter()
            for text in texts:
                fn(text)
            best[name] = min(best[name], time.perf_counter() - t0)
    return {name: len(rows[name][1]) / best[name] for name in rows}


def lark_cython_row(texts: list[str]) -> tuple[Callable[[str], Any], list[str]] | None:
    """The raw grammar under lark-cython (tree building only), when that optional package is installed."""
    try:
        import lark_cython
        from lark import Lark
    except ImportError:
        return None
    parser = Lark(_grammar_source("raw"), parser="lalr", lexer="contextual", _plugins=lark_cython.plugins)
    return lambda t: parser.parse(t[len("Action: ") :]), texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000, help="distinct strings per corpus (default 10000)")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.n < 1 or args.repeats < 1:
        ap.error("--n and --repeats must be at least 1")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    raw = RawSpace()
    spaces = [raw, GroundingSpace(), MotionSpace(), LanguageSpace(), LatentSpace()]
    chain = ChainSpace()
    corpora = {s.name: distinct_texts(lambda g, s=s: s.render(s.sample(g)), args.n, args.seed) for s in spaces}
    corpora["chain"] = distinct_texts(lambda g: chain.render(chain.sample(g)), args.n, args.seed)
    corpora["reasoning"] = distinct_texts(reasoning_response, args.n, args.seed)
    # every corpus must parse, or the numbers would measure error paths
    for s in spaces:
        assert all(s.parse(t) is not None for t in corpora[s.name][:500])
    for name in ("chain", "reasoning"):
        assert all(chain.parse(t).ok for t in corpora[name][:500]), name

    lark_raw = _compiled(RawSpace)
    rows: dict[str, tuple[Callable[[str], Any], list[str]]] = {
        "raw: OpenHA regex decode (baseline)": (openha_decode_raw, corpora["raw"]),
        "raw: parse": (raw.parse, corpora["raw"]),
        "raw: parse + canonicalize": (lambda t: raw.canonicalize(raw.parse(t)), corpora["raw"]),
        "raw: grammar only (no fast path)": (lambda t: lark_raw.parse(t[len("Action: ") :]), corpora["raw"]),
    }
    cython = lark_cython_row(corpora["raw"])
    if cython is not None:
        rows["raw: grammar only, lark-cython"] = cython
    for s in spaces[1:]:
        rows[f"{s.name}: parse"] = (s.parse, corpora[s.name])
    rows["chain: parse (all levels)"] = (chain.parse, corpora["chain"])
    rows["reasoning dialect: parse (chain)"] = (chain.parse, corpora["reasoning"])
    measured = rates(rows, args.repeats)

    baseline = measured["raw: OpenHA regex decode (baseline)"]
    print(f"{'corpus':40s} {'strings':>8s} {'responses/s':>12s} {'vs baseline':>12s}")
    for name, r in measured.items():
        print(f"{name:40s} {len(rows[name][1]):8d} {r:12,.0f} {r / baseline:11.2f}×")
    per_space = {s.name: measured[f"{s.name}: parse"] / baseline for s in spaces}
    worst = min(per_space, key=per_space.__getitem__)
    goal = "meets the 1.0× goal" if per_space[worst] >= 1.0 else "misses the 1.0× goal"
    floor = "above" if per_space[worst] >= 0.5 else "BELOW"
    print(f"\nslowest space: {worst} at {per_space[worst]:.2f}× the regex decoder: {goal}, {floor} the 0.5× floor")
    dialect = measured["reasoning dialect: parse (chain)"]
    verdict = "meets" if dialect >= 20_000 else "MISSES"
    print(f"reasoning dialect: {dialect:,.0f} responses/s on one core: {verdict} the 20,000/s target")


if __name__ == "__main__":
    main()
