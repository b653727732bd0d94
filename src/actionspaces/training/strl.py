"""Stage 2 of CrossHA, single-turn RL (STRL), as library pieces: the reward, rejection sampling, GRPO, relabel.

Every piece judges an answer by what it does, not by how it is written: the action-space-independent
reward ``1{g(a) = g(a*)}`` executes the answer and the expert's raw label on the context's view and
compares the first tick (:func:`action_match`, CrossAgent's ``mix_coa`` rule). The three steps of STRL
then are

1. :func:`rejection_sample`: candidates forced to start in each space, kept where equivalent, rebalanced;
2. :func:`strl_step`: single-step GRPO with that reward (a :data:`~actionspaces.training.stages.Step`);
3. :func:`relabel`: the RL model's greedy answer adopted wherever it is equivalent to the label.

A context is anything with the observation text (``prompt``), a ``frame`` (or ``None``), the ``labels``
of each space and the view ``state`` the answers execute on: CraftWorld's
:class:`~actionspaces.envs.craftworld.datasets.Context` is one.

Examples:
    >>> from actionspaces import ViewState
    >>> from actionspaces.envs.craftworld.datasets import Context
    >>> context = Context("mine_block:dirt", "obs", ViewState(), {"raw": "Action: move(0, 0) and press(w)"})
    >>> action_match("Motion: move forward", context), action_match("Motion: jump", context)
    (1.0, 0.0)
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

import numpy as np
import torch

from ..chain import parse
from ..grpo import EPS_VERL, group_advantages
from ..registry import space_entry
from ..rewards import action_match_reward
from ..state import ViewState
from .policy import Policy
from .stages import Step
from .updates import grpo_update

__all__ = [
    "FORCED_SPACES",
    "LabelledContext",
    "action_match",
    "executed_space",
    "rejection_sample",
    "relabel",
    "strl_step",
]

#: The spaces rejection sampling forces a candidate into: those with a first tick to compare (a skill is
#: closed-loop, so language keeps its expert examples).
FORCED_SPACES: tuple[str, ...] = ("raw", "motion", "grounding", "latent")


class LabelledContext(Protocol):
    """One decision point: what the model sees, each space's expert answer, and the view they execute on."""

    @property
    def prompt(self) -> str:
        """The observation text."""
        ...

    @property
    def frame(self) -> np.ndarray | None:
        """The frame a vision model sees, or ``None``."""
        ...

    @property
    def labels(self) -> Mapping[str, str]:
        """Each space's expert answer (space -> text); ``"raw"`` is the reference the reward executes."""
        ...

    @property
    def state(self) -> ViewState:
        """The view the answers execute on."""
        ...


def action_match(response: str, context: LabelledContext) -> float:
    """``1{g(response) = g(expert)}``: the first env tick, camera in whole degrees, against the raw label."""
    return action_match_reward(response, context.labels["raw"], state=context.state, mode="openha_strl")


def executed_space(text: str) -> str:
    """The space of the level a response executes, however it is written (prefixed, tagged or bare); ``"none"``."""
    level = parse(text).executable
    return level.space if level is not None else "none"


def rejection_sample(
    policy: Policy,
    contexts: Sequence[LabelledContext],
    *,
    temperature: float,
    max_new_tokens: int,
    batch_size: int = 128,
    grammars: Mapping[tuple[str, ...], Any] | None = None,
    spaces: Sequence[str] = FORCED_SPACES,
) -> dict[str, Any]:
    """Diversity-enhanced data: one candidate per context forced into each of ``spaces``; keep the equivalent ones.

    The space is forced by its registered prefix at the end of the prompt or, with ``grammars`` (a
    constraint per ``(space,)``, which writes the prefix itself), by that space's grammar. The kept
    candidates are rebalanced: no space contributes more than the median count of the spaces that have any.

    Returns:
        ``{"examples": [[index into contexts, response], ...], "accepted": {space: count}, "candidates": N,
        "cap": the rebalancing cap}``.
    """
    jobs = [(k, space) for k in range(len(contexts)) for space in spaces]
    prompts = [policy.prompt(c.prompt, c.frame) for c in contexts]
    options = {"max_new_tokens": max_new_tokens, "batch_size": batch_size}
    if grammars is None:
        prefixes = {space: space_entry(space).prefix for space in spaces}
        forced = [replace(prompts[k], text=prompts[k].text + prefixes[space]) for k, space in jobs]
        responses = policy.sample(forced, temperature, **options)
        texts = [prefixes[space] + policy.decode(ids) for (_, space), ids in zip(jobs, responses, strict=True)]
    else:  # one batch per space, each under that space's grammar
        by_space = {
            space: iter(replace(policy, constraint=grammars[(space,)]).sample(prompts, temperature, **options))
            for space in spaces
        }
        texts = [policy.decode(next(by_space[space])) for _, space in jobs]
    kept: dict[str, list[list[int | str]]] = defaultdict(list)
    for (k, space), text in zip(jobs, texts, strict=True):
        if action_match(text, contexts[k]):
            kept[space].append([k, text])
    counts = {space: len(kept[space]) for space in spaces}
    cap = int(np.median([n for n in counts.values() if n])) if any(counts.values()) else 0
    examples = [ex for space in spaces for ex in kept[space][:cap]]
    return {"examples": examples, "accepted": counts, "candidates": len(contexts), "cap": cap}


def strl_step(
    contexts: Sequence[LabelledContext],
    *,
    prompts: int,
    group: int,
    temperature: float,
    max_new_tokens: int,
    batch_size: int = 128,
    minibatches: int,
    clip: float,
    kl_coef: float,
    rows_per_pass: int | None = None,
) -> Step:
    """GRPO on single steps: ``prompts`` contexts drawn by numpy's global RNG, ``group`` samples each.

    The reward is :func:`action_match`; advantages are normalised within each context's group (verl's
    epsilon). The step's metrics are the mean ``reward``, the mean response ``tokens`` and
    :func:`~actionspaces.training.updates.grpo_update`'s.
    """

    def step(policy: Any, optimizer: torch.optim.Optimizer, it: int, ref: Any) -> dict[str, float]:
        if prompts > len(contexts):
            raise ValueError(f"strl_step draws {prompts} contexts without replacement from {len(contexts)}")
        batch = [contexts[i] for i in np.random.choice(len(contexts), prompts, replace=False)]
        chosen = [c for c in batch for _ in range(group)]
        encoded = [policy.prompt(c.prompt, c.frame) for c in chosen]
        responses = policy.sample(encoded, temperature, max_new_tokens=max_new_tokens, batch_size=batch_size)
        texts = [policy.decode(r) for r in responses]
        rewards = torch.tensor([action_match(t, c) for t, c in zip(texts, chosen, strict=True)])
        advantages = group_advantages(rewards, group, eps=EPS_VERL)
        metrics = grpo_update(policy, optimizer, encoded, responses, advantages, reference=ref, minibatches=minibatches,
                              clip=clip, kl_coef=kl_coef, rows_per_pass=rows_per_pass)  # fmt: skip
        return {"reward": rewards.mean().item(), "tokens": float(np.mean([len(r) for r in responses])), **metrics}

    return step


def relabel(
    policy: Policy,
    data: Sequence[tuple[LabelledContext, str]],
    *,
    max_new_tokens: int,
    batch_size: int = 128,
) -> dict[str, Any]:
    """Self-training relabel: where the policy's greedy answer is equivalent to the label, adopt it (and its space).

    ``data`` pairs each context with the space its label is in; language labels are kept (a skill has no
    first tick to compare).

    Returns:
        ``{"examples": [[index into data, response], ...], "adopted": {space: count}, "total": N}``, the
        adopted answers counted by the space they execute.
    """
    prompts = [policy.prompt(c.prompt, c.frame) for c, _ in data]
    responses = policy.sample(prompts, 0.0, max_new_tokens=max_new_tokens, batch_size=batch_size)
    examples: list[list[int | str]] = []
    adopted: Counter[str] = Counter()
    for k, ((context, space), ids) in enumerate(zip(data, responses, strict=True)):
        text = policy.decode(ids)
        if space != "language" and action_match(text, context):
            examples.append([k, text])
            adopted[executed_space(text)] += 1
        else:
            examples.append([k, context.labels[space]])
    return {"examples": examples, "adopted": dict(adopted), "total": len(data)}
