"""The gymnasium ids of the project's environments, registered when ``actionspaces`` is imported.

Registration names an entry point by its import path, so it costs no import of the simulator: CraftWorld
loads on the first ``gymnasium.make``.

Examples:
    >>> import gymnasium as gym
    >>> import actionspaces
    >>> gym.spec(CRAFTWORLD_ID).max_episode_steps
    2400
"""

from __future__ import annotations

import gymnasium as gym

__all__ = ["CRAFTWORLD_ID", "CRAFTWORLD_MAX_TICKS", "register_envs"]

CRAFTWORLD_ID = "actionspaces/CraftWorld-v0"
#: CraftWorld's episode limit: its own ``max_ticks`` default, and the registered ``max_episode_steps``.
CRAFTWORLD_MAX_TICKS = 2400


def register_envs() -> None:
    """Register the environment ids with gymnasium (idempotent)."""
    if CRAFTWORLD_ID not in gym.registry:
        gym.register(
            id=CRAFTWORLD_ID,
            entry_point="actionspaces.envs.craftworld:CraftWorld",
            max_episode_steps=CRAFTWORLD_MAX_TICKS,
        )
