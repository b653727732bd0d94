"""The gymnasium ids of the project's environments, registered when ``actionspaces`` is imported.

Registration names an entry point by its import path, so it costs no import of the simulator: CraftWorld
loads on the first ``gymnasium.make``.

Examples:
    >>> import gymnasium as gym
    >>> import actionspaces
    >>> gym.spec(CRAFTWORLD_ID).max_episode_steps, gym.spec(TEXT_CRAFTWORLD_ID).max_episode_steps
    (2400, 100)
"""

from __future__ import annotations

import gymnasium as gym

__all__ = ["CRAFTWORLD_ID", "CRAFTWORLD_MAX_TICKS", "TEXT_CRAFTWORLD_ID", "TEXT_MAX_CALLS", "register_envs"]

CRAFTWORLD_ID = "actionspaces/CraftWorld-v0"
#: CraftWorld with text actions: one step is one model call (``TextActionEnv`` over CraftWorld).
TEXT_CRAFTWORLD_ID = "actionspaces/TextCraftWorld-v0"
#: CraftWorld's episode limit: its own ``max_ticks`` default, and the registered ``max_episode_steps``.
CRAFTWORLD_MAX_TICKS = 2400
#: ``TextActionEnv``'s episode limit in model calls: its ``max_calls`` default and the text id's limit.
TEXT_MAX_CALLS = 100


def register_envs() -> None:
    """Register the environment ids with gymnasium (idempotent)."""
    if CRAFTWORLD_ID not in gym.registry:
        gym.register(
            id=CRAFTWORLD_ID,
            entry_point="actionspaces.envs.craftworld:CraftWorld",
            max_episode_steps=CRAFTWORLD_MAX_TICKS,
        )
    if TEXT_CRAFTWORLD_ID not in gym.registry:
        gym.register(
            id=TEXT_CRAFTWORLD_ID,
            entry_point="actionspaces.envs.craftworld.text_env:make_text_env",
            max_episode_steps=TEXT_MAX_CALLS,
        )
