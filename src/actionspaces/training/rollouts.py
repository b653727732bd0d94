"""A policy playing text-action episodes: one batched sample per turn over every live env.

:func:`play_policy` builds one env per ``(task, seed)`` with your ``make_env`` factory (any env that takes
text actions: a ``TextActionEnv`` over CraftWorld, MineStudio or your own simulator), then plays them
all to the end with :func:`~actionspaces.evaluation.play`, answering every live env's observation in one
batched ``policy.sample`` call per turn. Each turn keeps its prompt and
response ids, so a GRPO update can score them again.

Examples:
    >>> from actionspaces.envs import CraftWorld, TextActionEnv
    >>> from actionspaces.training.tiny import build_tiny_policy
    >>> policy = build_tiny_policy(["Action: move(0, 0) and press(w)"] * 20, hidden_size=16, layers=1, heads=2)
    >>> make_env = lambda task, seed: TextActionEnv(CraftWorld(task, max_ticks=20), max_calls=2)
    >>> episodes = play_policy(policy, [("mine_block:oak_log", 0)], make_env, temperature=1.0, max_new_tokens=8)
    >>> episodes[0].calls, episodes[0].task
    (2, 'mine_block:oak_log')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..evaluation import Answer, Episode, play
from .policy import Prompt
from .protocol import TrainablePolicy

__all__ = ["MakeEnv", "play_policy"]

#: ``make_env(task, seed)``: a fresh text-action env for one episode (reset with ``seed`` by the loop).
MakeEnv = Callable[[str, int], Any]


def play_policy(
    policy: TrainablePolicy,
    episodes: Sequence[tuple[str, int]],
    make_env: MakeEnv,
    *,
    temperature: float,
    max_new_tokens: int,
    batch_size: int = 128,
    frame: Callable[[Any], np.ndarray] | None = None,
) -> list[Episode]:
    """Play every ``(task, seed)`` episode to the end; each turn, one batched sample over the live envs.

    Args:
        policy: answers each observation's text (``obs["text"]``) in its chat template.
        episodes: the task and seed of each episode.
        make_env: builds each episode's env (all are built before the first reset).
        temperature: sampling temperature (0: greedy).
        max_new_tokens: the longest response.
        batch_size: prompts per ``generate`` call.
        frame: for a vision-language policy, the frame it sees of an env (e.g. CraftWorld's ``pov``).

    Returns:
        One :class:`~actionspaces.evaluation.Episode` per job, each turn with its prompt and response ids.
    """
    envs = [make_env(task, seed) for task, seed in episodes]

    def observe(env: Any, obs: Mapping[str, Any]) -> Prompt:
        return policy.prompt(obs["text"], frame(env) if frame is not None else None)

    def respond(prompts: list[Prompt]) -> list[Answer]:
        responses = policy.sample(prompts, temperature, max_new_tokens=max_new_tokens, batch_size=batch_size)
        return [Answer(policy.decode(ids), len(ids), p, ids) for p, ids in zip(prompts, responses, strict=True)]

    return play(envs, episodes, respond, observe=observe)
