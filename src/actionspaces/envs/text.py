"""``TextActionEnv``: a gymnasium wrapper whose action is the model's text, one call per step.

Each ``step(text)`` parses the response with a :class:`~actionspaces.ChainSpace`, runs the executable
level's controller until it finishes or the episode ends (:func:`~actionspaces.controllers.execute`, the
same loop the labellers' check uses), and returns the next observation. A response that does not parse
costs one call and one no-op tick, and never raises: the error is in ``info``.

It wraps any env that provides ``control_state()`` (CraftWorld, MineStudio, ``gymnasium.make`` output of
either, or an env of your own).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import EnvSpec
from gymnasium.error import ResetNeeded

from ..canonical import CanonicalAction
from ..chain import Chain, ChainSpace
from ..controllers import Controller, LatentCodebook, default_controllers, execute, state_reader
from ..errors import ActionSpacesError
from ..gym_ids import TEXT_MAX_CALLS
from ..registry import default_spaces, registered_controllers
from ..spaces import GroundingSpace, LatentSpace, MotionSpace, RawSpace

__all__ = ["TextActionEnv", "TextActionSpace"]


class TextActionSpace(gym.spaces.Space[str]):
    """The model's responses as a gymnasium space: ``sample()`` is a valid action, ``contains`` parses.

    ``sample()`` renders a random action of one of ``spaces`` (those the env can execute);
    ``contains(x)`` is true when ``x`` is a string whose executable level parses.

    Examples:
        >>> space = TextActionSpace(ChainSpace([RawSpace()]), seed=0)
        >>> space.sample().startswith("Action: "), "Action: move(0, 0) and press()" in space
        (True, True)
        >>> "Action: move(" in space, 3 in space
        (False, False)
    """

    def __init__(self, chain: ChainSpace, spaces: tuple[str, ...] | None = None, seed: int | None = None) -> None:
        names = tuple(chain.spaces) if spaces is None else spaces
        unknown = [n for n in names if n not in chain.spaces]
        if unknown or not names:
            raise ValueError(f"spaces must be a non-empty subset of the chain's {tuple(chain.spaces)}, got {names}")
        self.chain = chain
        self.spaces = names
        super().__init__(shape=None, dtype=None, seed=seed)

    @property
    def is_np_flattenable(self) -> bool:
        """Text has no flat numpy form."""
        return False

    def sample(self, mask: Any | None = None, probability: Any | None = None) -> str:
        """A rendered random action of one of the executable spaces."""
        if mask is not None or probability is not None:
            raise ValueError("TextActionSpace.sample takes no mask or probability")
        space = self.chain.spaces[self.spaces[int(self.np_random.integers(len(self.spaces)))]]
        return space.render(space.sample(self.np_random))

    def contains(self, x: Any) -> bool:
        """Whether ``x`` is a response whose executable level parses."""
        if not isinstance(x, str):
            return False
        level = self.chain.parse(x).executable
        return level is not None and level.ok

    def __repr__(self) -> str:
        return f"TextActionSpace({', '.join(self.spaces)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextActionSpace) and other.chain is self.chain and other.spaces == self.spaces

    def __hash__(self) -> int:
        return hash((id(self.chain), self.spaces))


class TextActionEnv(gym.Wrapper[dict[str, Any], str, dict[str, Any], Any], gym.utils.RecordConstructorArgs):
    """Wrap an env so that one step is one model call, with text in any space.

    Args:
        env: a gymnasium env that provides ``control_state()`` (wrappers included).
        chain: the spaces the model may use (every registered space by default; with a codebook, the
            latent space is sized to it).
        controllers: controllers by space name, replacing the defaults (the library's non-privileged raw,
            motion and grounding, and latent when ``codebook`` is given; language needs a controller from
            you, e.g. ``SkillPolicyController`` or CraftWorld's ``craftworld_controllers()``).
        codebook: the latent codebook that decodes latent codes.
        token_counter: counts the tokens of each response (``TokenCounter`` or any ``str -> int``).
        max_calls: the episode is truncated after this many calls.

    ``info`` after a step is plain data: ``chain`` (the parsed response, :meth:`Chain.to_dict`), ``space``
    (the level executed, or ``None``), ``parse_error`` (the first error's message, or ``None``), ``ticks``
    (this call), ``tokens`` (this call, when counted), the running ``calls``, ``total_ticks``,
    ``total_tokens``, plus the wrapped env's own info. :attr:`last_chain` holds the parsed
    :class:`~actionspaces.Chain` itself.

    Examples:
        >>> from actionspaces.envs import CraftWorld
        >>> env = TextActionEnv(CraftWorld("mine_block:oak_log"), token_counter=lambda s: len(s.split()))
        >>> _ = env.reset(seed=0)
        >>> _, _, _, _, info = env.step("Motion: turn right")
        >>> info["space"], info["ticks"], info["tokens"], info["calls"]
        ('motion', 4, 3, 1)
        >>> _, _, _, _, info = env.step("Action: move(0, 0) and press(")
        >>> info["space"], info["ticks"], info["parse_error"] is not None
        (None, 1, True)
    """

    def __init__(
        self,
        env: gym.Env[dict[str, Any], Any],
        *,
        chain: ChainSpace | None = None,
        controllers: Mapping[str, Controller[Any]] | None = None,
        codebook: LatentCodebook | None = None,
        token_counter: Callable[[str], int] | None = None,
        max_calls: int = TEXT_MAX_CALLS,
    ) -> None:
        if not isinstance(env, gym.Env):
            hint = (
                f"; to play the task {env!r}, wrap an env of it: TextActionEnv(CraftWorld({env!r})) or "
                f"gymnasium.make('actionspaces/TextCraftWorld-v0', task={env!r})"
                if isinstance(env, str)
                else ""
            )
            raise TypeError(f"TextActionEnv wraps a gymnasium.Env, got {type(env).__name__} {env!r}{hint}")
        self._read_state = state_reader(env)  # raises a clear TypeError for an env without control_state()
        if isinstance(max_calls, bool) or not isinstance(max_calls, int) or max_calls < 1:
            raise ValueError(f"max_calls must be an int >= 1, got {max_calls!r}")
        if chain is not None and not isinstance(chain, ChainSpace):
            raise TypeError(f"chain must be a ChainSpace, got {type(chain).__name__}")
        if codebook is not None and not isinstance(codebook, LatentCodebook):
            raise TypeError(f"codebook must be a LatentCodebook, got {type(codebook).__name__}")
        gym.utils.RecordConstructorArgs.__init__(
            self, chain=chain, controllers=controllers, codebook=codebook, token_counter=token_counter,
            max_calls=max_calls,
        )  # fmt: skip
        gym.Wrapper.__init__(self, env)
        self._inner: gym.Env[dict[str, Any], Any] = env  # self.env, typed as what it takes: env actions
        if chain is None:
            sized = {"latent": LatentSpace(codebook_size=codebook.size, decoder=codebook)} if codebook else {}
            chain = ChainSpace(default_spaces(sized))
        self.chain = chain
        spaces = chain.spaces
        # the built-ins' controllers sized to this chain's instances; every other registered space's own
        built_in = default_controllers(
            raw=_space(spaces, "raw", RawSpace),
            motion=_space(spaces, "motion", MotionSpace),
            grounding=_space(spaces, "grounding", GroundingSpace),
            codebook=codebook,
        )
        defaults = registered_controllers(spaces, skip=built_in) | built_in
        given = dict(controllers or {})
        for name, controller in given.items():
            if not isinstance(controller, Controller):
                raise TypeError(f"controllers[{name!r}] must be a Controller, got {type(controller).__name__}")
        self.controllers = {**defaults, **given}
        self.token_counter = token_counter
        self.max_calls = max_calls
        executable = tuple(n for n in spaces if n in self.controllers)
        self.action_space = TextActionSpace(chain, executable or None)
        self.calls = self.total_ticks = self.total_tokens = 0
        self.last_chain: Chain | None = None
        self._ended: str | None = None  # why the episode ended ("terminated", "truncated"): step then needs a reset
        self._is_registered_env = False  # set by the entry point of actionspaces/TextCraftWorld-v0

    @property
    def spec(self) -> EnvSpec | None:
        """The env's spec, with this wrapper's own (so ``EnvSpec.make`` rebuilds it), as gymnasium records it."""
        if self._is_registered_env:  # built by a registered entry point, the wrapper *is* the env of the id
            return self.env.spec
        return super().spec

    @spec.setter
    def spec(self, value: EnvSpec | None) -> None:
        self._cached_spec = value

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Reset the env and the call, tick and token counts (and reseed the controllers with ``seed``)."""
        self.calls = self.total_ticks = self.total_tokens = 0
        self.last_chain = None
        self._ended = None
        for controller in self.controllers.values():
            controller.reset(seed)
        if seed is not None:
            self.action_space.seed(seed)
        obs, info = self.env.reset(seed=seed, options=options)
        return obs, {**info, "calls": 0, "total_ticks": 0, "total_tokens": 0}

    def step(self, action: str) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """One model call: parse ``action`` (the response text), execute it, return what followed.

        Raises:
            TypeError: ``action`` is not a str.
            gymnasium.error.ResetNeeded: the episode already ended (terminated, or truncated after
                ``max_calls``): an episode never runs past its end, and ``reset`` starts the next one.
        """
        if not isinstance(action, str):
            raise TypeError(f"TextActionEnv.step takes the model's text (str), got {type(action).__name__}")
        if self._ended is not None:
            raise ResetNeeded(f"the episode is over ({self._ended} after {self.calls} calls): call reset() first")
        self.calls += 1
        tokens = self.token_counter(action) if self.token_counter is not None else 0
        self.total_tokens += tokens
        view = self._read_state().view
        chain = self.last_chain = self.chain.parse(action)
        level = chain.executable
        error = _first_error(chain)
        controller = self.controllers.get(level.space) if level is not None and level.ok else None
        space = level.space if controller is not None and level is not None else None
        if level is not None and level.ok and controller is None and error is None:
            error = ActionSpacesError(
                f"no controller executes {level.space!r} actions (pass TextActionEnv(controllers={{{level.space!r}: "
                "...}}); on CraftWorld, actionspaces.envs.craftworld.craftworld_controllers())"
            )
        if controller is not None and level is not None and level.action is not None:
            run = execute(controller, level.action, self._inner)
            obs, reward, terminated, truncated, info, ticks = (
                run.obs, run.reward, run.terminated, run.truncated, run.info, run.ticks
            )  # fmt: skip
        else:
            obs, r, terminated, truncated, info = self._inner.step(CanonicalAction())
            reward, ticks = float(r), 1
        self.total_ticks += ticks
        truncated = truncated or (self.calls >= self.max_calls and not terminated)
        if terminated or truncated:
            self._ended = "terminated" if terminated else "truncated"
        info = {
            **info,
            "chain": chain.to_dict(view),
            "space": space,
            "parse_error": _message(error) if space is None else None,
            "ticks": ticks,
            "tokens": tokens,
            "calls": self.calls,
            "total_ticks": self.total_ticks,
            "total_tokens": self.total_tokens,
        }
        return obs, reward, terminated, truncated, info


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


def _message(error: ActionSpacesError | None) -> str | None:
    return None if error is None else str(error)
