"""Stage 3 of CrossHA, multi-turn RL (MTRL), as a library step: trajectory-level GRPO through any text env.

:func:`mtrl_step` is a :data:`~actionspaces.training.stages.Step`: each iteration plays ``group`` rollouts
of ``tasks_per_step`` tasks (each group from one seed) through your ``make_env(task, seed)`` factory,
scores every episode by :func:`mtrl_return` (success − λ · policy tokens − the format penalty per call
with nothing executable), normalises the returns within each group and trains every call of an episode
with its episode's advantage. Another environment needs only another factory.

Examples:
    >>> from actionspaces.evaluation import Episode, Turn
    >>> episode = Episode("mine_block:dirt", 0, [Turn("Skill: mine dirt", 5, "language")], success=1.0)
    >>> round(mtrl_return(episode, token_penalty=0.01, format_penalty=0.1), 6)
    0.95
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..evaluation import Episode, call_shares
from ..grpo import EPS_VERL, trajectory_advantages
from ..token_cost import FORMAT_PENALTY, TOKEN_PENALTY, check_penalties, episode_return
from .rollouts import MakeEnv, play_policy
from .stages import Step
from .updates import grpo_update

__all__ = ["mtrl_return", "mtrl_step"]


def mtrl_return(
    episode: Episode, *, token_penalty: float = TOKEN_PENALTY, format_penalty: float = FORMAT_PENALTY
) -> float:
    """The MTRL return: :func:`~actionspaces.token_cost.episode_return` of its success, tokens, unparsed calls."""
    tokens = [t.tokens for t in episode.turns]
    return episode_return(episode.success, tokens, episode.unparsed, token_penalty=token_penalty,
                          format_penalty=format_penalty)  # fmt: skip


def mtrl_step(
    make_env: MakeEnv,
    tasks: Sequence[str],
    *,
    tasks_per_step: int,
    group: int,
    temperature: float,
    max_new_tokens: int,
    batch_size: int = 128,
    frame: Callable[[Any], np.ndarray] | None = None,
    token_penalty: float = TOKEN_PENALTY,
    format_penalty: float = FORMAT_PENALTY,
    minibatches: int,
    clip: float,
    kl_coef: float,
    rows_per_pass: int | None = None,
) -> Step:
    """Trajectory-level GRPO: ``tasks_per_step`` of ``tasks`` and their seeds drawn by numpy's global RNG.

    Args:
        make_env: builds each episode's env from ``(task, seed)``.
        tasks: the task ids the step draws from (without replacement within a step).
        tasks_per_step: tasks per iteration; ``group``: rollouts of each, all from the task's one seed.
        temperature, max_new_tokens, batch_size, frame: how the policy plays
            (:func:`~actionspaces.training.rollouts.play_policy`).
        token_penalty, format_penalty: the return's λ and penalty per unparsed call (:func:`mtrl_return`).
        minibatches, clip, kl_coef, rows_per_pass: :func:`~actionspaces.training.updates.grpo_update`'s.

    Returns:
        A step whose metrics are the mean ``success``, ``return``, ``tokens_per_episode`` and
        ``calls_per_episode`` of its rollouts, the update's, and ``share_<space>`` of their calls.

    Raises:
        ValueError: ``tasks_per_step`` is above the number of tasks, ``group`` below 2 (GRPO needs a group),
            or a penalty is not a finite number >= 0 (refused before any episode is played).
    """
    if not 1 <= tasks_per_step <= len(tasks):
        raise ValueError(f"tasks_per_step must be between 1 and the {len(tasks)} tasks, got {tasks_per_step}")
    if group < 2:
        raise ValueError(f"group must be at least 2 (advantages are relative to the group), got {group}")
    check_penalties(token_penalty, format_penalty)
    penalties = {"token_penalty": token_penalty, "format_penalty": format_penalty}

    def step(policy: Any, optimizer: torch.optim.Optimizer, it: int, ref: Any) -> dict[str, float]:
        chosen = np.random.choice(list(tasks), tasks_per_step, replace=False)
        seeds = np.random.randint(1_000, 1_000_000, size=tasks_per_step)
        jobs = [(str(t), int(s)) for t, s in zip(chosen, seeds, strict=True) for _ in range(group)]
        episodes = play_policy(policy, jobs, make_env, temperature=temperature, max_new_tokens=max_new_tokens,
                               batch_size=batch_size, frame=frame)  # fmt: skip
        returns = [mtrl_return(e, **penalties) for e in episodes]
        rows = [(k, j) for k, e in enumerate(episodes) for j in range(e.calls)]
        scores = torch.tensor([returns[k] for k, _ in rows])
        advantages = trajectory_advantages(scores, [k // group for k, _ in rows], [k for k, _ in rows], eps=EPS_VERL)
        prompts = [episodes[k].turns[j].prompt for k, j in rows]
        responses = [episodes[k].turns[j].response for k, j in rows]
        metrics = grpo_update(policy, optimizer, prompts, responses, advantages, reference=ref, minibatches=minibatches,
                              clip=clip, kl_coef=kl_coef, rows_per_pass=rows_per_pass)  # fmt: skip
        shares = {f"share_{s}": v for s, v in call_shares(episodes).items() if s != "none"}
        return {
            "success": float(np.mean([e.success for e in episodes])),
            "return": float(np.mean(returns)),
            "tokens_per_episode": float(np.mean([e.tokens for e in episodes])),
            "calls_per_episode": float(np.mean([e.calls for e in episodes])),
            **metrics,
            **shares,
        }

    return step
