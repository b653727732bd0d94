"""The :class:`ActionSpace` protocol every action space implements.

In the spirit of ``gymnasium.spaces.Space``: a small generic surface of verbs. A space knows its
``name``, the ``prefix`` that introduces it in a model's answer (``"Action:"``), its ``grammar`` (a Lark
file), how to ``parse`` text into a typed, frozen action and ``render`` it back (``parse(render(a)) == a``),
how to ``canonicalize`` an action into the MineRL env action it performs on the next tick, and how to
``sample`` and check (``contains``) actions.

Parsing is LALR (linear time) over the grammar in ``grammars/<name>.lark``; grammar-level and semantic
failures alike surface as one exception type, :class:`~actionspaces.errors.ParseError`.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr
from lark.load_grammar import FromPackageLoader
from pydantic import BaseModel, ValidationError

from .canonical import CanonicalAction
from .errors import ParseError
from .state import ViewState

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "GRAMMAR_LOADER",
    "ActionSpace",
    "SemanticError",
    "check_step_deg",
    "did_you_mean",
    "grammar_source",
    "header_pattern",
]

#: The action type of a space: a frozen pydantic model for a leaf space, a ``Chain`` for a ``ChainSpace``.
A = TypeVar("A")

#: Upper bound on the length of one action's text; real actions are a few dozen characters.
DEFAULT_MAX_LENGTH = 4096

#: Where a space grammar's ``%import terminals.NAME`` resolves: the package's ``grammars/`` (``terminals.lark``
#: holds the terminals several spaces share). Pass it as ``import_paths=[GRAMMAR_LOADER]`` to compile a
#: space's :attr:`ActionSpace.grammar` with Lark yourself.
GRAMMAR_LOADER = FromPackageLoader("actionspaces", ("grammars",))


class SemanticError(Exception):
    """Raised inside a grammar's transformer: the text is well-formed but a value is not allowed.

    ``position`` is relative to the body being parsed; :meth:`ActionSpace.parse` re-anchors it.
    """

    def __init__(self, message: str, position: int, expected: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.expected = expected

    @classmethod
    def at(cls, token: Token, message: str, expected: tuple[str, ...] = ()) -> SemanticError:
        """An error located at ``token``."""
        return cls(message, token.start_pos or 0, expected)


@cache
def grammar_source(name: str) -> str:
    """The text of ``grammars/<name>.lark`` shipped with the package."""
    return resources.files("actionspaces.grammars").joinpath(f"{name}.lark").read_text(encoding="utf-8")


@cache
def header_pattern(prefixes: tuple[str, ...]) -> re.Pattern[str]:
    """Regex for a level header such as ``Action:``, ``**Action:**``, ``action：`` (case-insensitive).

    Group ``name`` holds the prefix word. The pattern matches at the current position only.
    """
    words = "|".join(re.escape(p.rstrip(":")) for p in prefixes)
    return re.compile(rf"(?:\*\*)?(?P<name>{words})(?:\*\*)?[ \t]*[:：](?:\*\*)?[ \t]*", re.IGNORECASE)


class ActionSpace(ABC, Generic[A]):
    """Base class of every action space: parse text into a typed action ``A`` and back.

    Subclasses set the class attributes ``name``, ``prefix``, ``action_type`` and their grammar (``grammar_name``
    for a grammar shipped in ``actionspaces/grammars/``, or ``grammar_path`` for a ``.lark`` file of
    their own), provide a Lark transformer in :meth:`transformer`, and implement :meth:`render_body`,
    :meth:`canonicalize` and :meth:`sample`. ``examples/custom_space/hotbar.py`` is a complete one.

    The extension hooks a subclass may override are these, all public: :meth:`transformer` (required),
    :meth:`build` (check the transformer's result against the space's parameters), :meth:`fast_parse` (a
    scanner for the common form, which may only ever accept what the grammar accepts) and
    :meth:`generation_rules` (the constrained-decoding grammar of a custom space).

    Examples:
        >>> from actionspaces import RawSpace
        >>> space = RawSpace()
        >>> action = space.parse("Action: move(19, 0) and press(w)")
        >>> space.render(action)
        'Action: move(19, 0) and press(w)'
        >>> space.canonicalize(action).camera
        (0.0, 2.85)
    """

    name: ClassVar[str]
    prefix: ClassVar[str]
    grammar_name: ClassVar[str]
    #: A custom space's own ``.lark`` file; when set it is used instead of ``grammar_name``.
    grammar_path: ClassVar[str | Path | None] = None
    action_type: ClassVar[type[BaseModel]]
    #: Descriptions of regex terminals for error messages (terminal name → words).
    terminal_descriptions: ClassVar[dict[str, str]] = {}
    #: Terminals never listed as "expected" in an error (legacy forms a model should not be steered to).
    hidden_terminals: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, *, max_length: int = DEFAULT_MAX_LENGTH) -> None:
        if isinstance(max_length, bool) or not isinstance(max_length, int | np.integer) or max_length <= 0:
            raise ValueError(f"max_length must be a positive int (characters), got {max_length!r}")
        max_length = int(max_length)
        self.max_length = max_length

    # ----------------------------------------------------------------------------------------- grammar
    @property
    def grammar(self) -> str:
        r"""The Lark grammar (source text) of this space's action body.

        Its ``%import`` lines resolve with :data:`GRAMMAR_LOADER`.
        """
        return type(self)._grammar_text()

    @classmethod
    def _grammar_text(cls) -> str:
        if cls.grammar_path is None:
            return grammar_source(cls.grammar_name)
        path = Path(cls.grammar_path)
        if not path.is_file():
            raise FileNotFoundError(f"{cls.__name__}.grammar_path: no grammar file at {path}")
        return path.read_text(encoding="utf-8")

    @classmethod
    def transformer(cls) -> Transformer[Any, Any]:
        """The Lark transformer that builds the parse result (hook; required); called once per class."""
        raise NotImplementedError(f"{cls.__name__} must define the classmethod transformer()")

    def generation_rules(self) -> str | None:
        """Hook: the constrained-decoding grammar of this space (llguidance Lark rules), or ``None``.

        The entry rule must be named after the space (``name``), the others start with ``<name>_``; every
        string the rules accept must parse with this space (:func:`actionspaces.testing.check_space`
        checks it on sampled strings). The built-in spaces define theirs here like any custom space
        (see ``examples/custom_space/hotbar.py``); :mod:`actionspaces.spaces.rules` has helpers.
        """
        return None

    def _lark(self) -> Lark:
        return _compiled(type(self))

    # ----------------------------------------------------------------------------------------- parsing
    def parse(self, text: str) -> A:
        """Parse one action, with or without its prefix (``"Action: …"`` or ``"…"``).

        Raises:
            ParseError: the text is not an action of this space; the error carries the position, the
                expected tokens and the offending text. No other exception escapes.
        """
        if not isinstance(text, str):
            raise ParseError(f"expected a str, got {type(text).__name__}", text=repr(text), position=0, space=self.name)
        start, end = _strip_span(text)
        header = header_pattern((self.prefix,)).match(text, start, end)
        if header is not None:
            start = header.end()
        return self.parse_body(text, start, end)

    def _check_length(self, text: str, start: int, end: int) -> None:
        """Raise the positioned :class:`ParseError` for a body longer than ``max_length``, before any scan."""
        if end - start > self.max_length:
            raise ParseError(
                f"{self.name} action is {end - start} characters long, more than max_length={self.max_length}",
                text=text,
                position=start + self.max_length,
                space=self.name,
            )

    def parse_body(self, text: str, start: int = 0, end: int | None = None) -> A:
        """Parse ``text[start:end]``, the body after the prefix; errors point into the whole ``text``."""
        end = len(text) if end is None else end
        self._check_length(text, start, end)
        body = text[start:end]
        fast = self.fast_parse(body)
        if fast is not None:
            return fast
        if not body.strip():
            raise ParseError(
                f"empty {self.name} action",
                text=text,
                position=start,
                expected=self._first_tokens(),
                space=self.name,
            )
        try:
            # the transformer runs inline (LALR), so its SemanticError arrives unwrapped
            result = self._lark().parse(body)
            return self.build(result, body)
        except SemanticError as err:
            raise ParseError(
                err.message, text=text, position=start + err.position, expected=err.expected, space=self.name
            ) from None
        except UnexpectedInput as err:
            raise self._lark_error(err, text, start, body) from None

    def fast_parse(self, body: str) -> A | None:
        """Hook: a scanner for the common form; ``None`` defers to the grammar.

        It may only ever accept what the grammar accepts, with the same result (the test-suite checks the
        built-in ones against their grammars); every error is left to the grammar, which words it.
        """
        return None

    def build(self, result: Any, body: str) -> A:
        """Hook: turn the transformer's result into the action (where space parameters are checked)."""
        return result  # type: ignore[no-any-return]

    # ----------------------------------------------------------------------------------------- the rest
    def render(self, action: A) -> str:
        """The text of ``action`` with this space's prefix, e.g. ``"Action: move(0, 0) and press()"``."""
        return f"{self.prefix} {self.render_body(action)}"

    @abstractmethod
    def render_body(self, action: A) -> str:
        """The text of ``action`` without the prefix."""

    @abstractmethod
    def canonicalize(self, action: A, state: ViewState | None = None) -> CanonicalAction:
        """The env action ``action`` performs on the next tick in ``state`` (the paper's g)."""

    @abstractmethod
    def sample(self, rng: np.random.Generator | int | None = None) -> A:
        """A random valid action, for property tests and exploration."""

    def contains(self, action: object) -> bool:
        """Whether ``action`` is a valid action of this space (type and this space's parameters)."""
        return isinstance(action, self.action_type)

    # ----------------------------------------------------------------------------------------- tools
    #: The pydantic model of this space's tool arguments; ``None``: the action model itself. A space whose
    #: arguments differ from its action (raw: key names instead of env buttons) sets it and overrides
    #: :meth:`tool_arguments` and :meth:`tool_action`.
    tool_arguments_type: ClassVar[type[BaseModel] | None] = None

    def tool_schema(self) -> dict[str, Any]:
        """The space as a function tool (the OpenAI form, which vLLM, SGLang and TRL take).

        ``{"type": "function", "function": {"name", "description", "parameters"}}``: the name is the
        space's, the parameters the JSON schema of its argument model. A function-calling model then
        drives the same controllers as a text-writing one (:meth:`from_tool_call`).

        Examples:
            >>> from actionspaces import LanguageSpace
            >>> tool = LanguageSpace().tool_schema()["function"]
            >>> tool["name"], tool["parameters"]["required"]
            ('language', ['text'])
        """
        parameters = (self.tool_arguments_type or self.action_type).model_json_schema()
        parameters.pop("title", None)
        for model in [parameters, *parameters.get("$defs", {}).values()]:  # a docstring's first paragraph only
            if "description" in model:
                model["description"] = " ".join(model["description"].split("\n\n")[0].split())
        doc = (type(self).__doc__ or self.name).strip().split("\n\n")[0]
        description = " ".join(doc.split()) + f" The same action as the text `{self.prefix} ...`."
        return {
            "type": "function",
            "function": {"name": self.name, "description": description, "parameters": parameters},
        }

    def tool_arguments(self, action: A) -> dict[str, Any]:
        """The arguments of the tool call that performs ``action`` (JSON-ready); hook, see ``tool_arguments_type``."""
        if not isinstance(action, BaseModel):
            raise TypeError(f"{self.name}: a tool call carries a pydantic action, got {type(action).__name__}")
        return action.model_dump(mode="json")

    def tool_action(self, arguments: dict[str, Any]) -> A:
        """Hook: the action of validated-to-be-a-dict ``arguments`` (pydantic's errors name the argument)."""
        return self.action_type.model_validate(arguments)  # type: ignore[return-value]

    def from_tool_call(self, arguments: Mapping[str, Any] | str) -> A:
        """The action of a tool call, checked exactly as the text it renders to would be.

        ``arguments`` is the call's argument object, or its JSON text (as a server returns it). The action is
        rendered and parsed again, so a tool call and its text are refused, and executed, alike.

        Raises:
            ParseError: the arguments are not a JSON object, an argument is missing, unknown or out of
                range (the message names it and its position in the JSON), or the action they describe
                is one the text parser refuses.

        Examples:
            >>> from actionspaces import RawSpace
            >>> RawSpace().from_tool_call({"dx": 19, "keys": ["w"], "click": ["left"]}).buttons == {"forward", "attack"}
            True
            >>> RawSpace().from_tool_call('{"dx": 5000}')
            Traceback (most recent call last):
            ...
            actionspaces.errors.ParseError: raw: tool argument 'dx': Input should be less than or equal to 1200 ...
        """
        text = arguments if isinstance(arguments, str) else None
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except (ValueError, RecursionError) as err:
                raise ParseError(f"tool arguments are not JSON: {err}", text=text or "", position=getattr(
                    err, "pos", 0), space=self.name) from None  # fmt: skip
        if not isinstance(arguments, Mapping):
            raise ParseError(
                f"tool arguments must be a JSON object, got {type(arguments).__name__}",
                text=text if text is not None else repr(arguments), position=0, space=self.name,
            )  # fmt: skip
        shown = text if text is not None else json.dumps(dict(arguments), default=repr)
        try:
            action = self.tool_action(dict(arguments))
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(the object)"
            at = shown.find(f'"{first["loc"][0]}"') if first["loc"] else -1
            raise ParseError(
                f"tool argument {where!r}: {first['msg']}", text=shown, position=max(at, 0), space=self.name
            ) from None
        except ParseError:
            raise  # the text parser's own error, positioned in the text the arguments make
        except (TypeError, ValueError) as err:
            raise ParseError(f"tool arguments: {err}", text=shown, position=0, space=self.name) from None
        return self.parse(self.render(action))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # ----------------------------------------------------------------------------------------- errors
    def _describe(self, terminal: str) -> str:
        desc = self.terminal_descriptions.get(terminal)
        if desc is not None:
            return desc
        if terminal in ("$END", "<END-OF-FILE>"):
            return "end of action"
        try:
            term = self._lark().get_terminal(terminal)
        except KeyError:  # a pseudo-terminal lark reports by name only
            return terminal.lower()
        if isinstance(term.pattern, PatternStr):
            return repr(term.pattern.value)
        return terminal.lower()

    def _first_tokens(self) -> tuple[str, ...]:
        parser = self._lark().parse_interactive("")
        accepted: set[str] = parser.accepts()  # type: ignore[no-untyped-call]
        return tuple(self._describe(t) for t in accepted if t not in self.hidden_terminals)

    def _lark_error(self, err: UnexpectedInput, text: str, start: int, body: str) -> ParseError:
        if isinstance(err, UnexpectedToken):
            tok = err.token
            at_end = tok.type == "$END"
            pos = len(body) if at_end else (tok.start_pos or 0)
            found = "end of action" if at_end else repr(_first_word(str(tok)))
            expected = _accepted(err)
            msg = f"unexpected {found}"
        elif isinstance(err, UnexpectedCharacters):
            pos = err.pos_in_stream or 0
            expected = err.allowed or set()
            msg = f"unexpected character {body[pos]!r}" if pos < len(body) else "unexpected end of action"
        elif isinstance(err, UnexpectedEOF):
            pos = len(body)
            expected = set(err.expected)
            msg = "unexpected end of action"
        else:  # pragma: no cover - lark has no other subclasses
            pos, expected, msg = 0, set(), str(err)
        shown = [t for t in expected if not t.startswith("__IGNORE") and t not in self.hidden_terminals]
        described = tuple(self._describe(t) for t in shown)
        word = _WORD.match(body, pos)
        if word is not None:
            msg += did_you_mean(word.group(), self._keywords(shown))
        return ParseError(msg, text=text, position=start + pos, expected=described, space=self.name)

    def _keywords(self, terminals: list[str]) -> list[str]:
        """The literal words among ``terminals`` (``'move'``, ``'press'``), for "did you mean"."""
        words: list[str] = []
        for name in terminals:
            try:
                pattern = self._lark().get_terminal(name).pattern
            except KeyError:
                continue
            if isinstance(pattern, PatternStr) and _WORD.fullmatch(pattern.value):
                words.append(pattern.value)
            elif _WORD_ALTERNATIVES.fullmatch(pattern.value):  # /forward|back|left/: a list of words
                words += pattern.value.split("|")
        return words


_WORD = re.compile(r"[A-Za-z_][A-Za-z_.]*")
_WORD_ALTERNATIVES = re.compile(r"[A-Za-z_]+(\|[A-Za-z_]+)+")


def did_you_mean(word: str, candidates: list[str] | tuple[str, ...]) -> str:
    """``" (did you mean 'move'?)"`` for the candidate closest to ``word``, or ``""`` when none is close.

    Examples:
        >>> did_you_mean("mvoe", ["move", "press", "click"])
        " (did you mean 'move'?)"
        >>> did_you_mean("banana", ["move", "press"])
        ''
    """
    lowered = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean {lowered[close[0]]!r}?)" if close and close[0] != word.lower() else ""


@cache
def _compiled(space_type: type[ActionSpace[Any]]) -> Lark:
    """One LALR parser per space class, with its transformer applied inline (no parse tree is built)."""
    return Lark(
        space_type._grammar_text(),
        parser="lalr",
        lexer="contextual",
        transformer=space_type.transformer(),
        propagate_positions=False,
        maybe_placeholders=True,
        import_paths=[GRAMMAR_LOADER],
    )


_ACCEPTS: dict[tuple[int, tuple[int, ...]], set[str]] = {}


def _accepted(err: UnexpectedToken) -> set[str]:
    """The terminals lark's parser accepts where ``err`` happened (cached: computing them replays the parser)."""
    stack = getattr(getattr(err.interactive_parser, "parser_state", None), "state_stack", None)
    if stack is None:
        return set(err.accepts or err.expected)
    key = (id(err.interactive_parser.parser_state.parse_conf), tuple(stack))
    if key not in _ACCEPTS:
        if len(_ACCEPTS) > 4096:  # bounded: the parsers have a few hundred states
            _ACCEPTS.clear()
        _ACCEPTS[key] = set(err.accepts or err.expected)
    return _ACCEPTS[key]


def check_step_deg(name: str, value: float) -> float:
    """Validate a per-tick angle parameter: a finite number in (0, 180] degrees (the env's camera bound)."""
    if not (math.isfinite(value) and 0 < value <= 180):
        raise ValueError(f"{name} must lie in (0, 180] degrees, got {value!r}")
    return value


def _first_word(text: str) -> str:
    """The first word (or character) of a token, which is what a reader needs to see in a message."""
    m = re.match(r"\w+|\S", text)
    return m.group() if m else text


def _strip_span(text: str) -> tuple[int, int]:
    """``(start, end)`` of ``text`` without surrounding whitespace."""
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    return start, max(start, end)


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A numpy ``Generator`` from a generator, a seed, or ``None`` (fresh entropy)."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
