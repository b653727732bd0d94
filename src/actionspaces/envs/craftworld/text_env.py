"""The entry point of ``gymnasium.make("actionspaces/TextCraftWorld-v0")``: CraftWorld with text actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from ...controllers import LatentCodebook
from ...gym_ids import CRAFTWORLD_MAX_TICKS, TEXT_MAX_CALLS
from ..text import TextActionEnv
from .env import CraftWorld
from .oracles import craftworld_controllers

__all__ = ["make_text_env"]


def make_text_env(
    task: str = "mine_block:oak_log",
    *,
    controllers: Literal["oracle", "agent"] = "oracle",
    codebook: LatentCodebook | None = None,
    token_counter: Callable[[str], int] | None = None,
    max_calls: int = TEXT_MAX_CALLS,
    max_ticks: int = CRAFTWORLD_MAX_TICKS,
    skill_failure_rate: float = 0.2,
    seed: int | None = 0,
    **craftworld_kwargs: Any,
) -> TextActionEnv:
    """A :class:`TextActionEnv` over a :class:`CraftWorld` of ``task``, with every space executable.

    ``controllers`` picks CraftWorld's oracles (``"oracle"``, the default) or the library's
    non-privileged grounding (``"agent"``); see :func:`~actionspaces.envs.craftworld.oracles.craftworld_controllers`.

    Examples:
        >>> import gymnasium as gym
        >>> env = gym.make("actionspaces/TextCraftWorld-v0", task="mine_block:oak_log")
        >>> _ = env.reset(seed=0)
        >>> env.step("Skill: chop the oak tree")[4]["space"]
        'language'
    """
    env = CraftWorld(task, max_ticks=max_ticks, **craftworld_kwargs)
    # the latent controller comes from the codebook TextActionEnv is given: it is passed once
    chosen = craftworld_controllers(controllers, skill_failure_rate=skill_failure_rate, seed=seed)
    text_env = TextActionEnv(
        env, controllers=chosen, codebook=codebook, token_counter=token_counter, max_calls=max_calls
    )
    text_env._is_registered_env = True  # gymnasium.make's spec then names the id and its kwargs, not our objects
    return text_env
