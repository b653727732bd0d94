"""How often each space's label of an expert step reaches the expert's sub-goal, per task category.

A latent codebook (64 codes of 4-tick chunks) is fit on expert episodes of the training tasks (seeds
from 1000 on); labels are then checked on every ``--stride``-th tick of expert episodes of every task
in the registry (seeds 0..``--seeds``-1), by executing each label from the same state through its
controller (see ``actionspaces.envs.craftworld.labels.check_label``), once with CraftWorld's oracles
and once with the library's non-privileged controllers, in one run: the difference is what the
oracles flatter. Raw, motion and latent have no privileged controller (their rows are the same by
construction); skills are the scripted oracle in both, since CraftWorld has no learned skill policy.

    python benchmarks/bench_labels.py [--seeds 2] [--stride 4]
"""

from __future__ import annotations

import argparse

from actionspaces.controllers import LatentCodebook
from actionspaces.envs.craftworld import CATEGORIES, CONTROLLER_KINDS, tasks
from actionspaces.envs.craftworld.labels import SPACES, label_agreement, record_expert


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--stride", type=int, default=4)
    ap.add_argument("--codebook-size", type=int, default=64)
    args = ap.parse_args()
    chunks = []
    for task in tasks("train"):
        for seed in range(1000, 1003):
            actions = [s.action for s in record_expert(task, seed)]
            chunks += [actions[i : i + 4] for i in range(len(actions) - 3)]
    codebook = LatentCodebook.fit(chunks, size=args.codebook_size)
    results = {
        kind: label_agreement(tasks(), range(args.seeds), codebook=codebook, stride=args.stride, controllers=kind)
        for kind in CONTROLLER_KINDS
    }
    print(f"codebook: {codebook.size} codes from {len(chunks):,} chunks; {len(tasks())} tasks × {args.seeds} seeds\n")
    print("| space | controllers | " + " | ".join(CATEGORIES) + " | all |")
    print("|---|---|" + "---:|" * (len(CATEGORIES) + 1))
    for space in SPACES:
        for kind, result in results.items():
            cells, agree_all, total_all = [], 0, 0
            for category in CATEGORIES:
                agree, total = result.get((space, category), (0, 0))
                agree_all, total_all = agree_all + agree, total_all + total
                cells.append(f"{agree / total:.0%} ({agree}/{total})" if total else "—")
            overall = f"{agree_all / total_all:.0%}" if total_all else "—"
            print(f"| {space} | {kind} | " + " | ".join(cells) + f" | {overall} |")


if __name__ == "__main__":
    main()
