"""``TextActionEnv``: an environment that takes the model's text, one call per step.

Each ``step(text)`` parses the response with a :class:`~actionspaces.ChainSpace`, runs the executable
level's controller until it finishes or the episode ends, and returns the next observation. A response
that does not parse costs one call and one no-op tick, and never raises: the error is in ``info``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym

from ..canonical import CanonicalAction
from ..chain import Chain, ChainSpace
from ..controllers import Controller, LatentCodebook, SkillController, default_controllers
from ..errors import ActionSpacesError
from ..space import DEFAULT_MAX_LENGTH
from ..spaces import GroundingSpace, LatentSpace, MotionSpace, RawSpace
from .craftworld import TEXT_CHARSET, CraftWorld

__all__ = ["TextActionEnv"]


class TextActionEnv(gym.Env[dict[str, Any], str]):
    """Wrap a :class:`CraftWorld` so that one step is one model call with text in any space.

    Args:
        env: the simulator.
        chain: the spaces the model may use (the five CrossHA spaces by default; with a codebook, the
            latent space is sized to it).
        controllers: controllers by space name, replacing the defaults (raw, motion, grounding and
            language always; latent when ``codebook`` is given).
        codebook: the latent codebook that decodes latent codes.
        token_counter: counts the tokens of each response (``TokenCounter`` or any ``str -> int``).
        max_calls: the episode is truncated after this many calls.
        skill_failure_rate, seed: the language controller's failure rate and its seed.

    ``info`` after a step holds ``chain`` (the parsed :class:`~actionspaces.Chain`), ``space`` (the level
    executed, or ``None``), ``parse_error`` (the first error, or ``None``), ``ticks`` (this call),
    ``tokens`` (this call, when counted), and the running ``calls``, ``total_ticks``, ``total_tokens``,
    plus the simulator's own info.

    Examples:
        >>> env = TextActionEnv(CraftWorld("mine_block:oak_log"), token_counter=lambda s: len(s.split()))
        >>> _ = env.reset(seed=0)
        >>> _, _, _, _, info = env.step("Motion: turn right")
        >>> info["space"], info["ticks"], info["tokens"], info["calls"]
        ('motion', 4, 3, 1)
        >>> _, _, _, _, info = env.step("Action: move(0, 0) and press(")
        >>> info["space"], info["ticks"], info["parse_error"] is not None
        (None, 1, True)
    """

    metadata = {"render_modes": ["rgb_array"]}  # noqa: RUF012 - gymnasium's convention

    def __init__(
        self,
        env: CraftWorld,
        *,
        chain: ChainSpace | None = None,
        controllers: Mapping[str, Controller[Any]] | None = None,
        codebook: LatentCodebook | None = None,
        token_counter: Callable[[str], int] | None = None,
        max_calls: int = 100,
        skill_failure_rate: float = 0.2,
        seed: int | None = 0,
    ) -> None:
        if max_calls < 1:
            raise ValueError(f"max_calls must be >= 1, got {max_calls}")
        self.env = env
        if chain is None:
            from ..spaces import LanguageSpace

            latent = LatentSpace(codebook_size=codebook.size, decoder=codebook) if codebook else LatentSpace()
            chain = ChainSpace([RawSpace(), GroundingSpace(), MotionSpace(), LanguageSpace(), latent])
        self.chain = chain
        spaces = chain.spaces
        defaults = default_controllers(
            raw=_space(spaces, "raw", RawSpace),
            motion=_space(spaces, "motion", MotionSpace),
            grounding=_space(spaces, "grounding", GroundingSpace),
            codebook=codebook,
            skill_failure_rate=skill_failure_rate,
            seed=seed,
        )
        self.controllers = {**defaults, **(controllers or {})}
        self.token_counter = token_counter
        self.max_calls = max_calls
        self.observation_space = env.observation_space
        self.action_space = gym.spaces.Text(DEFAULT_MAX_LENGTH, min_length=0, charset=TEXT_CHARSET)
        self.calls = self.total_ticks = self.total_tokens = 0

    def reset(
        self, *, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Reset the simulator and the call, tick and token counts."""
        super().reset(seed=seed)
        self.calls = self.total_ticks = self.total_tokens = 0
        if seed is not None:
            for controller in self.controllers.values():
                if isinstance(controller, SkillController):
                    controller.seed(seed)
        obs, info = self.env.reset(seed=seed, options=options)
        return obs, {**info, "calls": 0, "total_ticks": 0, "total_tokens": 0}

    def step(self, action: str) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """One model call: parse ``action`` (the response text), execute it, return what followed."""
        if not isinstance(action, str):
            raise TypeError(f"TextActionEnv.step takes the model's text (str), got {type(action).__name__}")
        self.calls += 1
        tokens = self.token_counter(action) if self.token_counter is not None else 0
        self.total_tokens += tokens
        chain = self.chain.parse(action)
        level = chain.executable
        error = _first_error(chain)
        controller = self.controllers.get(level.space) if level is not None and level.ok else None
        space = level.space if controller is not None and level is not None else None
        if level is not None and level.ok and controller is None and error is None:
            error = ActionSpacesError(f"no controller executes {level.space!r} actions")
        ticks, reward = 0, 0.0
        terminated = truncated = False
        obs: dict[str, Any] = {}
        info: dict[str, Any] = {}
        if controller is not None and level is not None and level.action is not None:
            controller.start(level.action, self.env)
            done = False
            while not (done or terminated or truncated):
                tick, done = controller.step(self.env)
                obs, r, terminated, truncated, info = self.env.step(tick)
                reward += r
                ticks += 1
        else:
            obs, reward, terminated, truncated, info = self.env.step(CanonicalAction())
            ticks = 1
        self.total_ticks += ticks
        truncated = truncated or (self.calls >= self.max_calls and not terminated)
        info = {
            **info,
            "chain": chain,
            "space": space,
            "parse_error": error if space is None else None,
            "ticks": ticks,
            "tokens": tokens,
            "calls": self.calls,
            "total_ticks": self.total_ticks,
            "total_tokens": self.total_tokens,
        }
        return obs, reward, terminated, truncated, info

    def render(self) -> Any:
        """The simulator's frame."""
        return self.env.render()


def _space(spaces: Mapping[str, Any], name: str, kind: type) -> Any:
    space = spaces.get(name)
    return space if isinstance(space, kind) else kind()


def _first_error(chain: Chain) -> ActionSpacesError | None:
    level = chain.executable
    if level is not None and level.error is not None:
        return level.error
    if level is None:
        return chain.errors[0] if chain.errors else ActionSpacesError("the response has no executable level")
    return None
