"""Errors raised by action spaces.

Every failure to read a model's text is a :class:`ParseError` that says *where* (a character offset into
the text that was given), *what was expected there*, and *which text* failed. Nothing is silently turned
into a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["ActionSpacesError", "CanonicalizeError", "ParseError"]

_CONTEXT_CHARS = 60


class ActionSpacesError(Exception):
    """Base class of every error this library raises on purpose."""


class ParseError(ActionSpacesError, ValueError):
    """A text could not be read as an action.

    Attributes:
        message: What went wrong, in words.
        text: The full text that was being parsed.
        position: 0-based character offset into ``text`` where the problem starts.
        expected: Human-readable descriptions of what would have been accepted at ``position``.
        space: Name of the action space that rejected the text, if any.

    Examples:
        >>> from actionspaces import RawSpace, ParseError
        >>> try:
        ...     RawSpace().parse("Action: move(4, x)")
        ... except ParseError as err:
        ...     print(err.position, err.text[err.position:])
        16 x)
    """

    def __init__(
        self,
        message: str,
        *,
        text: str,
        position: int,
        expected: Iterable[str] = (),
        space: str | None = None,
    ) -> None:
        self.message = message
        self.text = text
        self.position = max(0, min(position, len(text)))
        self.expected: tuple[str, ...] = tuple(sorted(set(expected)))
        self.space = space
        # The message with line, column and caret is built when first shown, not here: a response with many
        # broken levels would otherwise pay a scan of the text from its start for every error.
        super().__init__(message)

    def __str__(self) -> str:
        return self._format()

    @property
    def line(self) -> int:
        """1-based line number of :attr:`position`."""
        return self.text.count("\n", 0, self.position) + 1

    @property
    def column(self) -> int:
        """1-based column of :attr:`position` within its line."""
        return self.position - (self.text.rfind("\n", 0, self.position) + 1) + 1

    def shifted(self, offset: int, text: str) -> ParseError:
        """The same error re-anchored into a larger ``text`` in which the parsed part starts at ``offset``."""
        return ParseError(
            self.message, text=text, position=self.position + offset, expected=self.expected, space=self.space
        )

    def caret(self) -> str:
        """The offending line (cut to a window around the position) with a ``^`` under the position."""
        start = self.text.rfind("\n", 0, self.position) + 1
        end = self.text.find("\n", self.position)
        end = len(self.text) if end < 0 else end
        lo = max(start, self.position - _CONTEXT_CHARS)
        hi = min(end, self.position + _CONTEXT_CHARS)
        snippet = ("…" if lo > start else "") + self.text[lo:hi] + ("…" if hi < end else "")
        pad = (self.position - lo) + (1 if lo > start else 0)
        return f"{snippet}\n{' ' * pad}^"

    def _format(self) -> str:
        where = f"line {self.line}, column {self.column}"
        head = f"{self.space}: " if self.space else ""
        msg = f"{head}{self.message} at {where}"
        if self.expected:
            shown = ", ".join(self.expected[:12]) + (", …" if len(self.expected) > 12 else "")
            msg += f" (expected one of: {shown})"
        return f"{msg}\n{self.caret()}"

    def __reduce__(self) -> tuple[object, ...]:  # keep keyword-only args picklable
        return (_rebuild_parse_error, (self.message, self.text, self.position, self.expected, self.space))


def _rebuild_parse_error(
    message: str, text: str, position: int, expected: tuple[str, ...], space: str | None
) -> ParseError:
    return ParseError(message, text=text, position=position, expected=expected, space=space)


class CanonicalizeError(ActionSpacesError, ValueError):
    """A parsed action cannot be turned into a canonical env action in the given state.

    Raised, for example, when a latent action is canonicalized without a codebook, or a language skill
    without a skill controller.
    """
