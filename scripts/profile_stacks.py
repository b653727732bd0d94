"""Where a run's time went, from py-spy's sampled stacks: a row per (phase, activity), in seconds.

    py-spy record --format raw --rate 20 -o quick.stacks -- python examples/crossha_train.py --preset quick
    python scripts/profile_stacks.py quick.stacks --rate 20

py-spy (``pip install py-spy``, not a dependency of the library) samples the trainer's stacks at ``--rate``
per second without slowing it; each raw line is a stack and its sample count. A stack's phase is the
outermost of the trainer's stages it is inside (SFT, STRL, MTRL, evaluation, data), its activity the
innermost of what the time is spent on (sampling with ``generate``, scoring, the backward pass, the
optimizer, env ticks, checkpoints). Prints a markdown table on stdout.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer


# (label, pattern on a frame "function (file:line)"; py-spy qualifies a method or closure, "Policy.sample" or
# "mtrl_step.<locals>.step"): a stack's phase is the first frame, from the outermost, that matches one; its
# activity the first frame, from the innermost, that matches one.
def _called(names: str, where: str = "") -> str:
    return rf"(^|\.)({names}) \(.*{where}"


PHASES = (
    ("evaluation", _called("evaluate_models")),
    ("rejection sampling", _called("rejection_sample")),
    ("relabel", _called("relabel")),
    ("SFT", _called("sft_stage")),
    ("STRL (single-step GRPO)", _called("step", r"training/strl\.py")),
    ("MTRL (multi-turn GRPO)", _called("step", r"training/mtrl\.py")),
    ("data", _called("record_episodes|expert_contexts|knowledge_corpus|fit_codebook|run_codebook")),
    ("model set-up", _called("tiny_policy|load_pretrained|build_grammars")),
)
ACTIVITIES = (
    ("sampling (generate)", _called("sample", r"policy\.py")),
    ("backward", _called("backward|run_backward|_engine_run_backward")),
    ("optimizer", _called("step|_single_tensor_adam|_multi_tensor_adam|clip_grad_norm_", r"torch/(optim|nn/utils)")),
    ("scoring (forward)", _called("response_logprobs")),
    ("env ticks", r"\(.*actionspaces/(envs|controllers)/"),
    ("checkpoints", _called("save|write|save_pretrained", r"(stages|checkpoints|rundir|modeling_utils)\.py")),
)


def classify(stack: list[str]) -> tuple[str, str]:
    """The (phase, activity) of one sampled stack, its frames outermost first."""
    phase = next((label for frame in stack for label, p in PHASES if re.search(p, frame)), "other")
    activity = next((label for frame in reversed(stack) for label, p in ACTIVITIES if re.search(p, frame)), "other")
    return phase, activity


def main(
    stacks: Annotated[Path, typer.Argument(help="py-spy record --format raw output")],
    rate: Annotated[float, typer.Option(min=0.001, help="the --rate py-spy sampled at (samples per second)")] = 100,
) -> None:
    if not stacks.is_file():
        raise typer.BadParameter(f"{stacks} is missing: record it with py-spy record --format raw")
    seconds: Counter[tuple[str, str]] = Counter()
    for number, line in enumerate(stacks.read_text().splitlines(), 1):
        frames, _, count = line.rpartition(" ")
        if not count.isdigit():
            raise typer.BadParameter(f"{stacks}:{number} is not a py-spy raw line ('frame;frame;... count')")
        # py-spy writes an empty stack where it could read no Python frame (a thread in native code only)
        seconds[classify(frames.split(";")) if frames.strip() else ("other", "no Python frame")] += int(count) / rate
    if not seconds:
        raise typer.BadParameter(f"{stacks} holds no samples")
    total = sum(seconds.values())
    print("| phase | activity | seconds | share |\n|---|---|---:|---:|")
    for (phase, activity), s in sorted(seconds.items(), key=lambda kv: -kv[1]):
        print(f"| {phase} | {activity} | {s:.0f} | {s / total:.0%} |")
    by_phase: Counter[str] = Counter()
    for (phase, _), s in seconds.items():
        by_phase[phase] += s
    print("| **all** | | " + f"{total:.0f} | 100% |")
    print("\n| phase | seconds | share |\n|---|---:|---:|")
    for phase, s in by_phase.most_common():
        print(f"| {phase} | {s:.0f} | {s / total:.0%} |")


if __name__ == "__main__":
    typer.run(main)
