"""TRL's ``environment_factory``: a ``TextActionEnv`` episode whose action spaces are the model's tools.

TRL (1.16, experimental) builds one environment per rollout with ``environment_factory()``, exposes the
environment's public methods as tools, calls ``reset(**row)`` with the dataset row and appends what it
returns to the prompt, runs the tool calls the model writes, masks every tool result out of the loss
(``tool_mask``), and scores the rollout with ``get_reward()`` when the environment has one.
:class:`ToolEnvironment` is that environment over any text-action env:

- ``reset(task=..., seed=...)`` starts the row's episode and returns its first observation;
- one method per action space, named as the space's tool (:meth:`~actionspaces.ActionSpace.tool_schema`),
  takes the tool's arguments, executes them through the space's controller exactly as the text they
  render to would be executed, and returns the next observation;
- ``get_reward()`` is the episode's return: success − λ·policy tokens − the format penalty per call
  with nothing executable (:func:`~actionspaces.token_cost.episode_return`).

A call whose arguments the space refuses costs one call, a no-op tick and the format penalty, as an
unparseable text response does, and raises the space's positioned message, which TRL hands the model as
the tool's ``{"error": ...}``. A call after the episode ended raises too.

Examples:
    >>> env = ToolEnvironment()
    >>> env.reset(task="mine_block:oak_log", seed=0).splitlines()[0]
    'task: mine_block:oak_log'
    >>> env.motion(forward_back="forward").splitlines()[0]
    'task: mine_block:oak_log'
    >>> env.calls, env.get_reward()
    (1, 0.0)
"""

from __future__ import annotations

import functools
import inspect
import json
import numbers
import operator
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal

from ..chat import opening_messages
from ..gym_ids import TEXT_MAX_CALLS
from ..registry import registered_spaces, registry_version, space_entry
from ..rewards import episode_success
from ..space import ActionSpace
from ..token_cost import FORMAT_PENALTY, TOKEN_PENALTY, TokenCounter, check_penalties, episode_return
from ._common import observation_text

__all__ = ["ToolEnvironment", "episode_rows"]

#: The methods TRL reads as the environment's own, never as tools.
_RESERVED = frozenset({"reset", "get_reward"})


def episode_rows(
    tasks: Sequence[str],
    seeds: Sequence[int],
    *,
    instruction: str = "Play the task with the tools.",
    system: str | None = None,
) -> list[dict[str, Any]]:
    """Dataset rows for :class:`ToolEnvironment`: a user prompt (the observation is appended) and the episode.

    ``system`` opens each prompt with that system message (``None``: the chat template's default).

    Examples:
        >>> episode_rows(["mine_block:oak_log"], [3])
        [{'prompt': [{'role': 'user', 'content': 'Play the task with the tools.'}], 'task': 'mine_block:oak_log', 'seed': 3}]
    """  # noqa: E501
    return [
        {"prompt": opening_messages(instruction, system), "task": task, "seed": int(seed)}
        for task in tasks
        for seed in seeds
    ]


class ToolEnvironment:
    """One episode of a text-action env per TRL rollout, its action spaces offered as tools.

    ``ToolEnvironment(...)`` returns an instance of a subclass that has one method per space in
    ``spaces`` (TRL reads the tools from the class), made once per set of spaces.

    Args:
        make_env: ``make_env(task, seed)`` builds the episode's env (any ``TextActionEnv``); by default
            CraftWorld's (:func:`~actionspaces.envs.craftworld.make_text_env` with ``max_calls``).
        spaces: the spaces offered as tools (names of registered spaces); by default those CraftWorld's
            env executes when ``make_env`` is not given, else every registered space. ``reset`` checks
            that the env executes each.
        tokenizer: counts the policy tokens of each call (its arguments as JSON, the form a model writes)
            for the token penalty: a Hugging Face tokenizer or a ``str -> int``. Without one, no token is
            charged, and a warning says so when ``token_penalty > 0``.
        token_penalty: λ, the cost of one policy token.
        format_penalty: the cost of a call with nothing executable.
        max_calls: calls per episode in the default env.
        observation: what the model reads of an observation (``obs["text"]`` by default).

    Raises:
        KeyError: ``spaces`` names an unregistered space.
        ValueError: a space is named ``reset`` or ``get_reward``, or a penalty is negative.
    """

    #: The spaces this class offers as tools (set on the subclasses ``ToolEnvironment(...)`` makes).
    tool_spaces: ClassVar[tuple[str, ...]] = ()
    _classes: ClassVar[dict[tuple[Any, ...], type[ToolEnvironment]]] = {}

    def __new__(cls, make_env: Callable[[str, int], Any] | None = None, *, spaces: Sequence[str] | None = None,
                **_: Any) -> ToolEnvironment:  # fmt: skip
        """An instance of the subclass whose methods are the tools of ``spaces`` (see the class)."""
        names = tuple(spaces) if spaces is not None else _default_spaces(make_env)
        return super().__new__(_tool_class(cls, names))

    def __init__(
        self,
        make_env: Callable[[str, int], Any] | None = None,
        *,
        spaces: Sequence[str] | None = None,
        tokenizer: Any = None,
        token_penalty: float = TOKEN_PENALTY,
        format_penalty: float = FORMAT_PENALTY,
        max_calls: int = TEXT_MAX_CALLS,
        observation: Callable[[Mapping[str, Any]], str] | None = None,
    ) -> None:
        check_penalties(token_penalty, format_penalty)
        if make_env is None:
            from ..envs.craftworld import make_text_env

            def make_env(task: str, seed: int) -> Any:
                return make_text_env(task, seed=seed, max_calls=max_calls)

        if tokenizer is None and token_penalty > 0:
            warnings.warn(
                "ToolEnvironment has no tokenizer: its get_reward charges no token penalty (pass tokenizer=)",
                stacklevel=2,
            )
        self._make_env = make_env
        self._count = TokenCounter(tokenizer) if tokenizer is not None else None
        self._token_penalty = float(token_penalty)
        self._format_penalty = float(format_penalty)
        self._read = observation or observation_text
        self._env: Any = None
        self._task = ""
        self._turns: list[int] = []
        self._unparsed = 0
        self._success = 0.0
        self._ended = False

    # ------------------------------------------------------------------------------------------ TRL's API
    def reset(self, task: str, seed: int = 0, **row: Any) -> str:
        """Start the episode of a dataset row; returns its first observation (TRL appends it to the prompt).

        Other columns of the row (``prompt`` among them) are TRL's and ignored.

        Raises:
            TypeError: ``task`` is not a str or ``seed`` not an int.
            ValueError: the env does not execute one of this environment's tool spaces.
        """
        if not isinstance(task, str) or isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"a row names its episode by task: str and seed: int, got {task!r} and {seed!r}")
        seed = int(seed)
        if self._env is not None:
            self._env.close()
        env = self._make_env(task, seed)
        executable = getattr(env.action_space, "spaces", None)
        missing = [n for n in self.tool_spaces if executable is not None and n not in executable]
        if missing:
            env.close()
            raise ValueError(
                f"the env executes {list(executable or ())}, not the tool spaces {missing}: pass spaces= to "
                "ToolEnvironment"
            )
        obs, _ = env.reset(seed=seed)
        self._env, self._task = env, task
        self._turns, self._unparsed, self._success, self._ended = [], 0, 0.0, False
        return self._read(obs)

    def get_reward(self) -> float:
        """The episode's return: success − λ·policy tokens − the format penalty per unexecuted call."""
        return episode_return(
            self._success, self._turns, self._unparsed,
            token_penalty=self._token_penalty if self._count is not None else 0.0, format_penalty=self._format_penalty,
        )  # fmt: skip

    # ------------------------------------------------------------------------------------------ state
    @property
    def calls(self) -> int:
        """Tool calls executed (or refused) in this episode."""
        return len(self._turns)

    @property
    def success(self) -> float:
        """1.0 once the episode's task is done."""
        return self._success

    @property
    def ended(self) -> bool:
        """Whether the episode is over (the task done, or the env's call or tick budget spent)."""
        return self._ended

    # ------------------------------------------------------------------------------------------ a tool call
    def _call(self, name: str, arguments: dict[str, Any]) -> str:
        if self._env is None:
            raise RuntimeError(f"{name}: call reset(task=..., seed=...) before the first tool call")
        if self._ended:
            raise RuntimeError(f"{name}: the episode is over (success {self._success:g}): no more tool calls")
        space = self._env.get_wrapper_attr("chain").spaces[name]
        self._turns.append(self._count(json.dumps(arguments)) if self._count is not None else 0)
        try:
            text = space.render(space.from_tool_call(arguments))
        except ValueError:  # ParseError included (its message names the space): a refused call is an unexecuted one
            self._unparsed += 1
            self._step("")
            raise
        obs, info = self._step(text)
        if info.get("space") is None:
            self._unparsed += 1
        return self._read(obs)

    def _step(self, text: str) -> tuple[Any, dict[str, Any]]:
        obs, _, terminated, truncated, info = self._env.step(text)
        self._success = max(self._success, episode_success(info, self._task))
        self._ended = bool(terminated or truncated)
        return obs, info


def _default_spaces(make_env: Callable[[str, int], Any] | None) -> tuple[str, ...]:
    if make_env is not None:
        return tuple(entry.name for entry in registered_spaces())
    from ..envs.craftworld import make_text_env

    return tuple(make_text_env().action_space.spaces)  # type: ignore[union-attr]


def _tool_class(base: type[ToolEnvironment], names: tuple[str, ...]) -> type[ToolEnvironment]:
    if not names:
        raise ValueError("ToolEnvironment needs at least one tool space")
    clash = sorted(set(names) & (_RESERVED | set(dir(base))))
    if clash:
        raise ValueError(f"spaces named {clash} would hide ToolEnvironment's own methods")
    key = (base.__qualname__, registry_version(), *names)  # a space registered anew gets a new class
    if key not in ToolEnvironment._classes:
        tools = {name: _tool_method(space_entry(name).create()) for name in names}
        cls = type(f"{base.__name__}[{','.join(names)}]", (base,), {**tools, "tool_spaces": names,
                                                                    "__module__": base.__module__})  # fmt: skip
        ToolEnvironment._classes[key] = cls
    return ToolEnvironment._classes[key]


def _tool_method(space: ActionSpace[Any]) -> Callable[..., str]:
    """A method that TRL (``transformers.utils.get_json_schema``) reads as ``space``'s tool.

    Its signature, type hints and Google-style docstring are made from the space's tool schema, so the
    schema a chat template shows is the space's; the call itself is validated by ``from_tool_call``.
    """
    schema = space.tool_schema()["function"]
    parameters = schema["parameters"]
    defs = parameters.get("$defs", {})
    required = set(parameters.get("required", ()))
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    hints: dict[str, Any] = {}
    lines = []
    for arg, prop in parameters["properties"].items():
        hints[arg] = _hint(prop, defs)
        default = inspect.Parameter.empty if arg in required else prop.get("default")
        params.append(inspect.Parameter(arg, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=hints[arg]))
        lines.append(f"    {arg}: {_describe(prop, defs)}")
    hints["return"] = str
    name = space.name

    def tool(self: ToolEnvironment, **arguments: Any) -> str:
        return self._call(name, arguments)

    tool.__name__ = tool.__qualname__ = name
    tool.__signature__ = inspect.Signature(params, return_annotation=str)  # type: ignore[attr-defined]
    tool.__annotations__ = hints
    tool.__doc__ = f"{schema['description']}\n\nArgs:\n" + "\n".join(lines) + "\n\nReturns:\n    The next observation."
    return tool


def _resolve(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = prop.get("$ref")
    return defs[ref.rsplit("/", 1)[-1]] if isinstance(ref, str) else prop


def _hint(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> Any:
    """The Python type hint of a JSON-schema property (what ``get_json_schema`` turns back into the schema)."""
    prop = _resolve(prop, defs)
    if "anyOf" in prop:
        options = [_hint(option, defs) for option in prop["anyOf"] if option.get("type") != "null"]
        hint = functools.reduce(operator.or_, options)
        return hint | None if any(option.get("type") == "null" for option in prop["anyOf"]) else hint
    if "enum" in prop:
        return Literal[tuple(prop["enum"])]
    kind = prop.get("type")
    if kind == "array":
        return list[_hint(prop["items"], defs)] if "items" in prop else list  # type: ignore[misc]
    simple = {"integer": int, "number": float, "string": str, "boolean": bool, "object": dict}
    if kind not in simple:
        raise TypeError(f"no tool type hint for the JSON schema {dict(prop)}")
    return simple[kind]


def _describe(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> str:
    """One line: the property's description (or title), and the fields of an object it holds."""
    resolved = _resolve(prop, defs)
    text = prop.get("description") or resolved.get("description") or prop.get("title") or "see the tool's description"
    bounds = [f"{word} {prop[key]:g}" for key, word in (("minimum", "at least"), ("maximum", "at most")) if key in prop]
    items = _resolve(resolved.get("items", {}), defs)
    if items.get("type") == "object" or "properties" in items:
        fields = ", ".join(f"{k} ({_sketch(v, defs)})" for k, v in items.get("properties", {}).items())
        text += f"; each an object with {fields}"
    return text.rstrip(".") + (f" ({', '.join(bounds)})" if bounds else "")


def _sketch(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> str:
    """A short type of a nested field: ``"kill"|"mine"``, ``list of {x, y}``, ``int``."""
    prop = _resolve(prop, defs)
    if "anyOf" in prop:
        return " or ".join(_sketch(option, defs) for option in prop["anyOf"])
    if "enum" in prop:
        return "|".join(json.dumps(value) for value in prop["enum"])
    if prop.get("type") == "array":
        return f"list of {_sketch(prop.get('items', {}), defs)}"
    if "properties" in prop:
        return "{" + ", ".join(prop["properties"]) + "}"
    return str(prop.get("type", "any"))
