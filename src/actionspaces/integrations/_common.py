"""What the TRL and verl adapters share: a completion's text, a row's view state, a chat kept as token ids."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..chat import opening_messages
from ..rewards import episode_success
from ..state import ViewState
from ..token_cost import episode_return

__all__ = [
    "ChatTokens",
    "EpisodeTokens",
    "answer_text",
    "completion_text",
    "completion_texts",
    "eos_ids",
    "observation_text",
    "view_state",
]


def answer_text(tokenizer: Any, ids: Sequence[int], drop: set[int] | None = None) -> str:
    """The text of generated ``ids`` as an env or a reward must read it: special tokens kept.

    The spaces' markers (``<|point_start|>``) and latent codes (``<|latent_3|>``) are special tokens, which
    ``skip_special_tokens=True`` (what TRL decodes completions with) deletes. The end-of-turn and padding
    ids are left out instead: ``drop``, by default the tokenizer's EOS and pad ids.
    """
    if drop is None:
        drop = {i for i in (tokenizer.eos_token_id, tokenizer.pad_token_id) if i is not None}
    return str(tokenizer.decode([int(i) for i in ids if int(i) not in drop], skip_special_tokens=False))


def completion_texts(completions: Sequence[Any], tokenizer: Any, kwargs: Mapping[str, Any]) -> list[str]:
    """Each completion's text: decoded from TRL's ``completion_ids`` with ``tokenizer`` when one is given."""
    if tokenizer is None:
        return [completion_text(c) for c in completions]
    ids = kwargs.get("completion_ids")
    if ids is None or len(ids) != len(completions):
        raise ValueError("a reward given a tokenizer decodes TRL's completion_ids: pass them, one per completion")
    return [answer_text(tokenizer, row) for row in ids]


def completion_text(completion: Any) -> str:
    """The text of a completion: a string, or (conversational format) the last assistant message.

    Examples:
        >>> completion_text([{"role": "assistant", "content": "Motion: jump"}])
        'Motion: jump'
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list | tuple):
        for message in reversed(completion):
            if isinstance(message, Mapping) and message.get("role") == "assistant":
                content = message.get("content")
                if isinstance(content, str):
                    return content
                if isinstance(content, list):  # multimodal content parts
                    return "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
        raise ValueError("a conversational completion must contain an assistant message with text content")
    raise TypeError(f"a completion is a str or a list of messages, got {type(completion).__name__}")


def observation_text(obs: Mapping[str, Any]) -> str:
    """What a model reads of a text-action env's observation by default: its ``"text"``.

    Raises:
        ValueError: the observation has no ``"text"`` string.
    """
    if not isinstance(obs, Mapping) or not isinstance(obs.get("text"), str):
        raise ValueError("the observation has no 'text'; pass observation= to say what the model reads of it")
    return str(obs["text"])


def view_state(value: Any) -> ViewState | None:
    """A :class:`ViewState` from ``None``, a ``ViewState`` or a mapping of its fields (a dataset column).

    Examples:
        >>> view_state({"gui_open": True}).gui_open
        True
    """
    if value is None or isinstance(value, ViewState):
        return value
    if isinstance(value, Mapping):
        return ViewState.model_validate(dict(value))
    raise TypeError(f"a view state is a ViewState, a mapping of its fields or None, got {type(value).__name__}")


def eos_ids(tokenizer: Any) -> set[int]:
    """The ids that end a model's turn: the tokenizer's EOS and, where the vocabulary has it, ``<|im_end|>``."""
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    end = tokenizer.convert_tokens_to_ids("<|im_end|>") if "<|im_end|>" in tokenizer.get_vocab() else None
    return ids | ({end} if isinstance(end, int) else set())


class ChatTokens:
    """A multi-turn chat kept as token ids: the model's turns as generated, the env's rendered by the template.

    A model's answer is never decoded and tokenized again (the ids it sampled are the ids trained on);
    what the env adds between two answers (the turn's end, the next observation as a user turn, the next
    generation prompt) is the difference of two renderings of the chat template, tokenized alone.

    Args:
        tokenizer: a tokenizer with a chat template.
        observation: the first observation, the first user turn.
        system: the system message before it (``None``: the template's default); a checkpoint's own is
            :func:`~actionspaces.chat.recorded_system_prompt`.

    Raises:
        ValueError: the tokenizer has no chat template, or (in :meth:`env_turn`) the template rewrites
            earlier turns when one is added.
    """

    def __init__(self, tokenizer: Any, observation: str, system: str | None = None) -> None:
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError("a multi-turn rollout needs a tokenizer with a chat template (the turns are chat turns)")
        self.tokenizer = tokenizer
        self.messages: list[dict[str, str]] = opening_messages(observation, system)
        self.prompt_ids = _ids(tokenizer.apply_chat_template(self.messages, add_generation_prompt=True, tokenize=True))
        self._eos = eos_ids(tokenizer)
        self._turn_ends = _turn_ends(tokenizer)

    def env_turn(self, answer_ids: Sequence[int], answer: str, observation: str) -> list[int]:
        """The env's ids after the model's ``answer_ids`` (decoded: ``answer``): its turn's end, ``observation``."""
        ended = bool(answer_ids) and int(answer_ids[-1]) in self._eos
        self.messages.append({"role": "assistant", "content": answer})
        before = self.tokenizer.apply_chat_template(self.messages, tokenize=False)
        self.messages.append({"role": "user", "content": observation})
        after = self.tokenizer.apply_chat_template(self.messages, tokenize=False, add_generation_prompt=True)
        if not after.startswith(before):
            raise ValueError(
                "the chat template rewrites earlier turns when a turn is added: multi-turn rollouts need it not to"
            )
        text = self._turn_ends[ended] + str(after)[len(before) :]
        return _ids(self.tokenizer(text, add_special_tokens=False)["input_ids"])


@dataclass
class EpisodeTokens:
    """One episode's response as a trainer scores it: the model's and the env's turns, and what they cost.

    ``ids`` alternate the model's turns (``mask`` 1, their sampled ``logprobs``) and the env's (``mask`` 0,
    log-prob 0); ``turns`` holds the policy tokens of each call, ``unparsed`` the calls with nothing
    executable, ``success`` whether the task was done.
    """

    task: str
    ids: list[int] = field(default_factory=list)
    mask: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    turns: list[int] = field(default_factory=list)
    unparsed: int = 0
    success: float = 0.0

    def model_turn(self, ids: Sequence[int], logprobs: Sequence[float] | None) -> None:
        """Add a call's generated ``ids`` (with their log-probs, or 0 where the backend gave none)."""
        self.ids += ids
        self.mask += [1] * len(ids)
        self.logprobs += list(logprobs[: len(ids)]) if logprobs else [0.0] * len(ids)
        self.turns.append(len(ids))

    def env_turn(self, ids: Sequence[int]) -> None:
        """Add the env's ``ids`` between two calls (masked out of the loss)."""
        self.ids += ids
        self.mask += [0] * len(ids)
        self.logprobs += [0.0] * len(ids)

    def record(self, info: Mapping[str, Any]) -> None:
        """Count a step's ``info``: a call with nothing executable, the task's success."""
        self.unparsed += info.get("space") is None
        self.success = max(self.success, episode_success(info, self.task))

    def episode_return(self, *, token_penalty: float, format_penalty: float) -> float:
        """Success − λ·policy tokens − the format penalty per unexecuted call."""
        return episode_return(self.success, self.turns, self.unparsed, token_penalty=token_penalty,
                              format_penalty=format_penalty)  # fmt: skip


def _ids(value: Any) -> list[int]:
    """Token ids from ``apply_chat_template(tokenize=True)``, which returns a list or a ``BatchEncoding``."""
    if isinstance(value, Mapping):
        value = value["input_ids"]
    return [int(i) for i in value]


def _turn_ends(tokenizer: Any) -> dict[bool, str]:
    """What the chat template writes after an assistant answer (``<|im_end|>\\n`` for Qwen's).

    Keyed by whether the model already wrote its end-of-turn token: then that token is its own and not repeated.
    """
    sentinel = "\u2063answer\u2063"
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "x"}, {"role": "assistant", "content": sentinel}], tokenize=False
    )
    tail = str(text).partition(sentinel)[2]
    after_eos = tail
    for token in ("<|im_end|>", tokenizer.eos_token or ""):
        if token and tail.startswith(token):
            after_eos = tail[len(token) :]
            break
    return {False: tail, True: after_eos}
