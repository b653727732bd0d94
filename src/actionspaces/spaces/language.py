"""Language space: ``Skill: chop the oak tree`` — one line naming a skill for a skill controller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from lark import Token, Transformer
from pydantic import BaseModel, ConfigDict, field_validator

from ..canonical import CanonicalAction
from ..errors import CanonicalizeError
from ..space import DEFAULT_MAX_LENGTH, ActionSpace, as_generator
from ..state import ViewState

#: Most characters in one generated skill.
LANGUAGE_MAX_CHARS = 64

__all__ = ["LANGUAGE_MAX_CHARS", "LanguageAction", "LanguageSpace", "SkillResolver"]

#: Turns a skill into its first env tick in a state (a skill controller's first step).
SkillResolver = Callable[["LanguageAction", ViewState | None], CanonicalAction]


class LanguageAction(BaseModel):
    """A skill in words: one stripped, non-empty line.

    Examples:
        >>> LanguageSpace().parse("Skill: chop the oak tree").text
        'chop the oak tree'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str

    @field_validator("text")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if not value.strip() or value != value.strip() or "\n" in value or "\r" in value:
            raise ValueError(f"a skill is one stripped, non-empty line, got {value!r}")
        return value


class _LanguageTransformer(Transformer[Token, Any]):
    def start(self, children: list[Token]) -> LanguageAction:
        return LanguageAction(text=str(children[0]).strip())


class LanguageSpace(ActionSpace[LanguageAction]):
    """Free-text skills. The text has no fixed meaning on its own: canonicalizing needs a skill controller.

    Args:
        resolver: maps a skill and a state to its first env tick (a skill controller). Without one,
            :meth:`canonicalize` raises :class:`~actionspaces.errors.CanonicalizeError`.
        max_length: longest accepted body, in characters.
    """

    name: ClassVar[str] = "language"
    prefix: ClassVar[str] = "Skill:"
    grammar_name: ClassVar[str] = "language"
    action_type: ClassVar[type[BaseModel]] = LanguageAction
    terminal_descriptions: ClassVar[dict[str, str]] = {"TEXT": "one line of text"}

    def __init__(self, resolver: SkillResolver | None = None, *, max_length: int = DEFAULT_MAX_LENGTH) -> None:
        super().__init__(max_length=max_length)
        self.resolver = resolver

    @classmethod
    def transformer(cls) -> _LanguageTransformer:
        """The transformer of ``grammars/language.lark``."""
        return _LanguageTransformer()

    def fast_parse(self, body: str) -> LanguageAction | None:
        """One line of text is the whole grammar: the same action without the parser."""
        text = body.strip()
        if not text or "\n" in body or "\r" in body:
            return None
        return LanguageAction(text=text)

    def generation_rules(self) -> str:
        """One plain line of at most :data:`LANGUAGE_MAX_CHARS`: no ``:`` (a level header), no ``<`` (a chat token)."""
        return "\n".join([
            "language: LANGUAGE_TEXT",
            f"LANGUAGE_TEXT: /[A-Za-z0-9]([A-Za-z0-9 ,.'_-]{{0,{LANGUAGE_MAX_CHARS - 2}}}[A-Za-z0-9.])?/",
        ])  # fmt: skip

    def render_body(self, action: LanguageAction) -> str:
        """The skill text itself."""
        return action.text

    def canonicalize(self, action: LanguageAction, state: ViewState | None = None) -> CanonicalAction:
        """The first tick of the skill, as the resolver (skill controller) decides."""
        if self.resolver is None:
            raise CanonicalizeError(
                f"cannot canonicalize skill {action.text!r}: a language action has no fixed env action; "
                "pass LanguageSpace(resolver=...) with a skill controller"
            )
        return self.resolver(action, state)

    def sample(self, rng: np.random.Generator | int | None = None) -> LanguageAction:
        """A random skill phrase such as ``"mine 3 stone nearby"``."""
        g = as_generator(rng)

        def pick(options: tuple[str, ...]) -> str:
            return options[int(g.integers(len(options)))]

        return LanguageAction(text=f"{pick(_VERBS)} {pick(_QUANTITIES)} {pick(_TARGETS)}{pick(_PLACES)}")


_VERBS = (
    "chop",
    "mine",
    "collect",
    "hunt",
    "kill",
    "approach",
    "find",
    "craft",
    "explore towards",
    "look at",
)
_QUANTITIES = ("the", "a", "some", "one", *(str(n) for n in range(2, 17)))
_TARGETS = (
    "oak log", "birch log", "stone", "dirt", "sand", "grass block", "sugar cane", "cow", "sheep", "zombie",
    "chicken", "crafting table", "chest", "oak planks", "stick", "wooden pickaxe",
)  # fmt: skip
_PLACES = (
    "",
    " nearby",
    " to the left",
    " to the right",
    " in front of you",
    " behind you",
    " below",
    " above",
)
