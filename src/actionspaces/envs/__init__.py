"""Environments: the embedded CraftWorld simulator and adapters to real Minecraft."""

import gymnasium as gym

from .craftworld import CraftWorld
from .text import TextActionEnv

__all__ = ["CraftWorld", "TextActionEnv"]

if "actionspaces/CraftWorld-v0" not in gym.registry:
    gym.register(id="actionspaces/CraftWorld-v0", entry_point="actionspaces.envs.craftworld:CraftWorld")
