"""How often each space's label of an expert step reaches the expert's sub-goal, per task category.

A latent codebook (64 codes of 4-tick chunks) is fit on expert episodes of the training tasks (seeds
from 1000 on); labels are then checked on every ``--stride``-th tick of expert episodes of the training
tasks and of a seeded sample of ``--held-out`` held-out tasks per category (0: the whole registry), seeds
0..``--seeds``-1, by executing each label from the same state through its controller (see
``actionspaces.envs.craftworld.labels.check_label``), once with CraftWorld's oracles and once with the
library's non-privileged controllers, in one run: the difference is what the oracles flatter. Raw,
motion and latent have no privileged controller (their rows are the same by construction); skills are
the scripted oracle in both, since CraftWorld has no learned skill policy.

    python benchmarks/bench_labels.py [--seeds 2] [--stride 4] [--held-out 30]
"""

from __future__ import annotations

import argparse

from actionspaces.controllers import LatentCodebook
from actionspaces.envs.craftworld import CATEGORIES, CONTROLLER_KINDS, task_subset, tasks
from actionspaces.envs.craftworld.labels import SPACES, label_agreement, record_expert


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--stride", type=int, default=4)
    ap.add_argument("--codebook-size", type=int, default=64)
    ap.add_argument("--held-out", type=int, default=30, help="held-out tasks per category (0: all)")
    args = ap.parse_args()
    checked = tasks("train") + task_subset(args.held_out or None)
    chunks = []
    for task in tasks("train"):
        for seed in range(1000, 1003):
            actions = [s.action for s in record_expert(task, seed)]
            chunks += [actions[i : i + 4] for i in range(len(actions) - 3)]
    codebook = LatentCodebook.fit(chunks, size=args.codebook_size)
    results = {
        kind: label_agreement(checked, range(args.seeds), codebook=codebook, stride=args.stride, controllers=kind)
        for kind in CONTROLLER_KINDS
    }
    print(f"codebook: {codebook.size} codes from {len(chunks):,} chunks; {len(checked)} tasks (30 training, "
          f"{len(checked) - 30} held out) × {args.seeds} seeds\n")  # fmt: skip
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
