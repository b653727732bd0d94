"""Multi-turn GRPO on TRL: ``TextActionEnv`` episodes as the rollouts of ``GRPOTrainer(rollout_func=...)``.

CrossHA's stage 3 scores a whole episode: return = success − λ·(policy tokens) − (a format penalty per
call with nothing executable). :func:`text_env_rollout_func` plays such episodes with TRL's own generation
backend (its transformers ``generate`` or, with ``use_vllm=True``, vLLM), so ``accelerate launch`` across
GPUs and vLLM server mode work without changes here.

**One episode is one completion.** The conversation after the first observation (the prompt) alternates
the model's answers and the env's next observations; ``env_mask`` marks the model's tokens 1 and the
env's 0, and TRL multiplies its loss mask by it, so no observation token is ever trained on. The
alternative, one sample per call sharing the trajectory's advantage, does not fit TRL's grouping: its
advantages are computed over a fixed ``num_generations`` completions per prompt, while the number of calls
varies from episode to episode. Each turn's generation sees the whole conversation so far.

The dataset's prompts name the episodes (:func:`episode_prompts`): TRL hands ``rollout_func`` only the
prompts. Its sampler repeats each prompt ``num_generations`` times in a row, and each arrival is played
as one episode from the prompt's seed, so one GRPO group is the episodes of one prompt. (TRL 1.16's
docstring says the prompts arrive without duplication; measured here, with the transformers backend,
they arrive repeated, and the trainer expects one completion per arrival.)

Examples:
    >>> episode_prompts(["mine_block:oak_log"], seeds=[0, 1])
    ['{"task": "mine_block:oak_log", "seed": 0}', '{"task": "mine_block:oak_log", "seed": 1}']
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..chat import checked_system_prompt
from ..token_cost import FORMAT_PENALTY, TOKEN_PENALTY, check_penalties
from ._common import ChatTokens, EpisodeTokens, answer_text, eos_ids, observation_text

__all__ = [
    "Generate",
    "episode_prompts",
    "episode_return_reward",
    "parse_episode_prompt",
    "text_env_rollout_func",
    "trainer_generate",
]

#: ``generate(histories) -> (new ids per row, their log-probs per row or None)``: one turn for every live episode.
Generate = Callable[[list[list[int]]], tuple[list[list[int]], list[list[float]] | None]]


def episode_prompts(tasks: Iterable[str], seeds: Iterable[int]) -> list[str]:
    """The dataset prompts of every ``(task, seed)`` episode (JSON: what :func:`parse_episode_prompt` reads)."""
    seeds = list(seeds)
    return [json.dumps({"task": task, "seed": int(seed)}) for task in tasks for seed in seeds]


def parse_episode_prompt(prompt: Any) -> dict[str, Any]:
    """The episode a dataset prompt names: ``{"task": ..., "seed": ...}`` (a conversational prompt's last message).

    Raises:
        ValueError: the prompt is not such a JSON object.
    """
    text = prompt[-1]["content"] if isinstance(prompt, list) and prompt and isinstance(prompt[-1], Mapping) else prompt
    try:
        spec = json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        spec = None
    if not isinstance(spec, dict) or not isinstance(spec.get("task"), str) or not isinstance(spec.get("seed"), int):
        raise ValueError(
            f"a rollout prompt names an episode as JSON {{'task': str, 'seed': int}} (see episode_prompts), got "
            f"{str(prompt)[:120]!r}"
        )
    return spec


def trainer_generate(trainer: Any) -> Generate:
    """One turn through ``trainer``'s own backend (``GRPOTrainer._generate_single_turn``: transformers or vLLM).

    TRL keeps that method private and has changed it: ``(prompts, images)`` in 0.24, ``(prompt_ids, images,
    multimodal_fields)`` from 1.0 to 1.13, ``(prompt_ids, images, multimodal_fields, num_generations, ...)``
    from 1.14 (the TRL range this library admits, ``trl>=1.10,<1.17``, is tested at both ends by ``make
    test-trl-range``). The two ``prompt_ids`` forms are called, chosen by the method's signature; any
    other is refused here, before a rollout, rather than misread. Pass your own ``generate`` to
    :func:`text_env_rollout_func` on another TRL.

    Raises:
        TypeError: ``trainer`` has no such method, or it takes neither form.
    """
    method = getattr(trainer, "_generate_single_turn", None)
    if method is None:
        raise TypeError(
            f"{type(trainer).__name__} has no _generate_single_turn (TRL's GRPOTrainer backend); pass generate= to "
            "text_env_rollout_func"
        )
    try:
        names = list(inspect.signature(method).parameters)
    except (TypeError, ValueError):
        names = []
    if names[:3] != ["prompt_ids", "images", "multimodal_fields"]:
        raise TypeError(
            f"{type(trainer).__name__}._generate_single_turn takes {names or 'an unreadable signature'}, not "
            "(prompt_ids, images, multimodal_fields, ...) as TRL 1.10 to 1.16 do: pass generate= to "
            "text_env_rollout_func"
        )
    per_prompt = names[3:4] == ["num_generations"]  # from TRL 1.14: how many completions of each prompt

    def generate(histories: list[list[int]]) -> tuple[list[list[int]], list[list[float]] | None]:
        ids, logprobs = method(histories, None, {}, 1) if per_prompt else method(histories, None, {})
        return [list(map(int, row)) for row in ids], logprobs

    return generate


@dataclass
class _Episode:
    env: Any
    chat: ChatTokens
    tokens: EpisodeTokens


def text_env_rollout_func(
    make_env: Callable[[Mapping[str, Any]], Any],
    *,
    token_penalty: float = TOKEN_PENALTY,
    format_penalty: float = FORMAT_PENALTY,
    max_turns: int = 40,
    observation: Callable[[Mapping[str, Any]], str] | None = None,
    generate: Callable[[Any], Generate] = trainer_generate,
    system: str | None = None,
) -> Callable[[list[Any], Any], dict[str, list[Any]]]:
    """A TRL ``rollout_func`` that plays the episode each prompt names in a ``TextActionEnv``, one per prompt.

    Args:
        make_env: builds a fresh env for an episode spec (``{"task", "seed"}``), e.g.
            ``lambda spec: gymnasium.make("actionspaces/TextCraftWorld-v0", task=spec["task"])``.
        token_penalty: λ, the cost of one policy token in the return.
        format_penalty: subtracted per call whose response had nothing executable.
        max_turns: calls per episode at most (the env may end it sooner).
        observation: the text the model sees of an observation (``obs["text"]`` by default).
        generate: builds the per-turn generator from the trainer (:func:`trainer_generate` by default).
        system: the system message of every episode's chat (``None``: the chat template's default); pass
            :func:`~actionspaces.chat.recorded_system_prompt` of the model to prompt it as it was trained.

    TRL calls the result as ``rollout_func(prompts, trainer)``: ``prompts`` is this process's slice of the
    batch, each prompt repeated ``num_generations`` times in a row (so measured with TRL 1.10 and 1.16,
    whose docstrings say otherwise), ``trainer`` the ``GRPOTrainer``.

    The returned dict holds TRL's ``prompt_ids``, ``completion_ids``, ``logprobs`` and ``env_mask``, and for
    the reward functions ``episode_return``, ``success``, ``policy_tokens``, ``calls`` and ``task``.
    """
    if max_turns < 1:
        raise ValueError(f"max_turns must be >= 1, got {max_turns}")
    check_penalties(token_penalty, format_penalty)
    read = observation or observation_text
    system = checked_system_prompt(system)

    def rollout(prompts: list[Any], trainer: Any) -> dict[str, list[Any]]:
        tokenizer = trainer.processing_class
        tokenizer = getattr(tokenizer, "tokenizer", tokenizer)  # a processor (Qwen2-VL) wraps its tokenizer
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError("text_env_rollout_func needs a tokenizer with a chat template (the turns are chat turns)")
        step = generate(trainer)
        eos = eos_ids(tokenizer)
        episodes: list[_Episode] = []
        for prompt in prompts:  # each arrives num_generations times: one episode per arrival
            spec = parse_episode_prompt(prompt)
            env = make_env(spec)
            obs, _ = env.reset(seed=spec["seed"])
            episodes.append(_Episode(env, ChatTokens(tokenizer, read(obs), system), EpisodeTokens(spec["task"])))
        live = list(range(len(episodes)))
        for _turn in range(max_turns):
            if not live:
                break
            new, logprobs = step([episodes[i].chat.prompt_ids + episodes[i].tokens.ids for i in live])
            still = []
            for k, i in enumerate(live):
                episode, tokens = episodes[i], episodes[i].tokens
                ids = new[k]
                tokens.model_turn(ids, logprobs[k] if logprobs is not None else None)
                text = answer_text(tokenizer, ids, eos | {tokenizer.pad_token_id})
                obs, _, terminated, truncated, info = episode.env.step(text)
                tokens.record(info)
                if terminated or truncated or _turn == max_turns - 1:
                    episode.env.close()
                    continue
                tokens.env_turn(episode.chat.env_turn(ids, text, read(obs)))
                still.append(i)
            live = still
        done = [e.tokens for e in episodes]
        returns = [t.episode_return(token_penalty=token_penalty, format_penalty=format_penalty) for t in done]
        return {
            "prompt_ids": [e.chat.prompt_ids for e in episodes],
            "completion_ids": [t.ids for t in done],
            "logprobs": [t.logprobs for t in done],
            "env_mask": [t.mask for t in done],
            "episode_return": returns,
            "success": [t.success for t in done],
            "policy_tokens": [sum(t.turns) for t in done],
            "calls": [len(t.turns) for t in done],
            "task": [t.task for t in done],
        }

    return rollout


def episode_return_reward(completions: Sequence[Any], episode_return: Sequence[float], **_: Any) -> list[float]:
    """TRL reward function: the ``episode_return`` that :func:`text_env_rollout_func` computed for each completion.

    Examples:
        >>> episode_return_reward(["...", "..."], episode_return=[0.9, -0.1])
        [0.9, -0.1]
    """
    if len(episode_return) != len(completions):
        raise ValueError(f"{len(episode_return)} episode returns for {len(completions)} completions")
    return [float(r) for r in episode_return]
