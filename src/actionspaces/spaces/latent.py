"""Latent space: ``Latent: <|latent_12|><|latent_407|>`` — codes of a learned codebook of action chunks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

import numpy as np
from lark import Token, Transformer
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..canonical import CanonicalAction
from ..errors import CanonicalizeError
from ..space import DEFAULT_MAX_LENGTH, ActionSpace, SemanticError, as_generator
from ..state import ViewState


def latent_token(code: int) -> str:
    """The special token that writes latent ``code`` (the one spelling of a code).

    Examples:
        >>> latent_token(407)
        '<|latent_407|>'
    """
    return f"<|latent_{code}|>"


__all__ = ["ChunkDecoder", "LatentAction", "LatentSpace", "latent_token"]


class ChunkDecoder(Protocol):
    """Anything that decodes latent codes into the env actions of their chunks (e.g. a codebook)."""

    def decode(self, codes: Sequence[int]) -> Sequence[CanonicalAction]:
        """The env actions, tick by tick, that ``codes`` stand for."""
        ...


class LatentAction(BaseModel):
    """A sequence of codebook indices.

    Examples:
        >>> LatentSpace(codebook_size=512).parse("Latent: <|latent_12|><|latent_407|>").codes
        (12, 407)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    codes: tuple[int, ...] = Field(min_length=1)

    @field_validator("codes")
    @classmethod
    def _non_negative(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(c < 0 for c in value):
            raise ValueError(f"latent codes must be ≥ 0, got {value!r}")
        return value


class _LatentTransformer(Transformer[Token, Any]):
    def start(self, children: list[Token]) -> list[Token]:
        return children


_CODE_RE = re.compile(r"<\|latent_([0-9]+)\|>")
_CODES_RE = re.compile(r"(?:<\|latent_[0-9]{1,6}\|>)+")


class LatentSpace(ActionSpace[LatentAction]):
    """Codes of a codebook of ``codebook_size`` action chunks.

    Args:
        codebook_size: number of codes; a code ≥ this is rejected at its position.
        num_codes: exact number of codes per action, or ``None`` for any number from 1 to ``max_codes``.
        max_codes: upper bound on the number of codes when ``num_codes`` is ``None``.
        decoder: decodes codes into env actions (e.g. a ``LatentCodebook``); needed by :meth:`canonicalize`.
        max_length: longest accepted body, in characters.
    """

    name: ClassVar[str] = "latent"
    prefix: ClassVar[str] = "Latent:"
    grammar_name: ClassVar[str] = "latent"
    action_type: ClassVar[type[BaseModel]] = LatentAction
    terminal_descriptions: ClassVar[dict[str, str]] = {"CODE": "a latent code <|latent_N|>"}

    def __init__(
        self,
        codebook_size: int = 512,
        num_codes: int | None = None,
        *,
        max_codes: int = 16,
        decoder: ChunkDecoder | None = None,
        max_length: int = DEFAULT_MAX_LENGTH,
    ) -> None:
        super().__init__(max_length=max_length)
        if codebook_size < 1:
            raise ValueError(f"codebook_size must be ≥ 1, got {codebook_size!r}")
        if num_codes is not None and num_codes < 1:
            raise ValueError(f"num_codes must be ≥ 1 or None, got {num_codes!r}")
        if max_codes < 1:
            raise ValueError(f"max_codes must be ≥ 1, got {max_codes!r}")
        self.codebook_size = codebook_size
        self.num_codes = num_codes
        self.max_codes = num_codes if num_codes is not None else max_codes
        self.decoder = decoder

    @classmethod
    def transformer(cls) -> _LatentTransformer:
        """The transformer of ``grammars/latent.lark``."""
        return _LatentTransformer()

    def build(self, result: list[Token], body: str) -> LatentAction:
        """The codes, checked against this codebook's size and code count."""
        codes: list[int] = []
        for token in result:
            code = int(_CODE_RE.fullmatch(str(token)).group(1))  # type: ignore[union-attr]
            if code >= self.codebook_size:
                raise SemanticError.at(
                    token,
                    f"code {code} is outside the codebook of size {self.codebook_size}",
                    (f"a code 0..{self.codebook_size - 1}",),
                )
            codes.append(code)
        count = len(codes)
        if self.num_codes is not None and count != self.num_codes:
            where = result[self.num_codes] if count > self.num_codes else None
            raise SemanticError(
                f"expected exactly {self.num_codes} codes, got {count}",
                (where.start_pos or 0) if where is not None else len(body.rstrip()),
                ("end of action",) if where is not None else ("a latent code <|latent_N|>",),
            )
        if count > self.max_codes:
            raise SemanticError.at(
                result[self.max_codes], f"more than max_codes={self.max_codes} codes", ("end of action",)
            )
        return LatentAction(codes=tuple(codes))

    def fast_parse(self, body: str) -> LatentAction | None:
        """Consecutive codes without spaces, within this codebook and count; anything else to the grammar."""
        if _CODES_RE.fullmatch(body) is None:
            return None
        codes = tuple(int(c) for c in _CODE_RE.findall(body))
        if any(c >= self.codebook_size for c in codes) or len(codes) > self.max_codes:
            return None
        if self.num_codes is not None and len(codes) != self.num_codes:
            return None
        return LatentAction(codes=codes)

    def generation_rules(self) -> str:
        """``num_codes`` codes (or 1 to ``max_codes``), each one of the codebook's special tokens."""
        lo, hi = (self.num_codes, self.num_codes) if self.num_codes is not None else (1, self.max_codes)
        codes = " | ".join(latent_token(i) for i in range(self.codebook_size))
        return f"latent: latent_code~{lo}..{hi}\nlatent_code: {codes}"

    def render_body(self, action: LatentAction) -> str:
        """The codes as consecutive special tokens."""
        return "".join(latent_token(c) for c in action.codes)

    def canonicalize(self, action: LatentAction, state: ViewState | None = None) -> CanonicalAction:
        """The first tick of the decoded chunk."""
        if self.decoder is None:
            raise CanonicalizeError(
                f"cannot canonicalize latent codes {list(action.codes)}: pass LatentSpace(decoder=...) "
                "with a codebook that decodes them"
            )
        if not self.contains(action):
            raise CanonicalizeError(f"latent action {action!r} does not fit this space ({self!r})")
        ticks = self.decoder.decode(action.codes)
        if not ticks:
            raise CanonicalizeError(f"the decoder returned no ticks for codes {list(action.codes)}")
        return ticks[0]

    def sample(self, rng: np.random.Generator | int | None = None) -> LatentAction:
        """Random codes: ``num_codes`` of them, or 1 to ``max_codes``."""
        g = as_generator(rng)
        count = self.num_codes or int(g.integers(1, self.max_codes + 1))
        return LatentAction(codes=tuple(int(c) for c in g.integers(self.codebook_size, size=count)))

    def contains(self, action: object) -> bool:
        """A :class:`LatentAction` whose codes fit the codebook and the code count."""
        if not isinstance(action, LatentAction):
            return False
        n = len(action.codes)
        count_ok = n == self.num_codes if self.num_codes is not None else n <= self.max_codes
        return count_ok and max(action.codes) < self.codebook_size

    def __repr__(self) -> str:
        return f"LatentSpace(codebook_size={self.codebook_size}, num_codes={self.num_codes})"
