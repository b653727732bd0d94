"""Environments: the embedded CraftWorld simulator and adapters to real Minecraft."""

from .craftworld import CraftWorld
from .text import TextActionEnv

__all__ = ["CraftWorld", "TextActionEnv"]
