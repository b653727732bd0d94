"""verl's multi-turn path: a text-action env episode as one agent loop, registered as ``actionspaces_text_env``.

verl (0.9) rolls out each dataset row through the agent loop its ``agent_name`` column names: the loop's
``run(sampling_params, **row)`` talks to the inference servers through ``server_manager.generate`` (token
ids in, token ids and log-probs out) and returns an ``AgentLoopOutput``. :class:`TextEnvAgentLoop` plays
the episode the row's ``extra_info`` names (``{"task", "seed"}``) in a gymnasium text-action env
(``actionspaces/TextCraftWorld-v0`` by default):

- the first observation is the prompt; each turn the servers continue the whole conversation's ids;
- the model's ids are kept as sampled (never decoded and tokenized again): decoded only for the env,
  special tokens included; the env's turns are rendered by the chat template (:class:`ChatTokens`);
- ``response_mask`` is 1 on the model's tokens and 0 on the env's, ``response_logprobs`` the servers'
  log-probs (0 on the env's tokens), ``reward_score`` the episode's return (success − λ·policy tokens −
  the format penalty per unexecuted call), so verl needs no reward function for these rows;
- ``grammar`` constrains every answer to a space's (or the chain's) generation grammar through the
  sampling parameters, as the engine takes it (vLLM's ``structured_outputs``, SGLang's ``ebnf``; both
  served with llguidance, see :mod:`actionspaces.decoding.serving`).

Register it with verl by the YAML next to this module (``actor_rollout_ref.rollout.agent.agent_loop_config_path=``
its path, :func:`agent_loop_config_path`) or by importing this module (``@register``), and make the rows
with :func:`verl_rows`. Importing it needs verl.
"""

from __future__ import annotations

import asyncio
import numbers
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from uuid import uuid4

import gymnasium as gym

from ..chat import checked_system_prompt
from ..decoding.serving import ENGINES, serving_grammar
from ..gym_ids import TEXT_CRAFTWORLD_ID
from ..token_cost import FORMAT_PENALTY, TOKEN_PENALTY, check_penalties
from ._common import ChatTokens, EpisodeTokens, answer_text, eos_ids, observation_text

try:
    from verl.experimental.agent_loop.agent_loop import (
        AgentLoopBase,
        AgentLoopMetrics,
        AgentLoopOutput,
        register,
    )
except ImportError as err:  # pragma: no cover - exercised where verl is missing
    raise ImportError(
        f"actionspaces.integrations.verl_agent needs verl's agent loop (pip install 'verl>=0.9'), which failed to "
        f"import: {err}. The single-step reward actionspaces.integrations.verl.compute_score does not need it"
    ) from err

__all__ = ["AGENT_NAME", "TextEnvAgentLoop", "agent_loop_config_path", "sampling_constraint", "verl_rows"]

#: The name rows give in their ``agent_name`` column.
AGENT_NAME = "actionspaces_text_env"


def agent_loop_config_path() -> Path:
    """The YAML that registers the loop with verl (``actor_rollout_ref.rollout.agent.agent_loop_config_path``)."""
    return Path(__file__).with_name("verl_agent.yaml")


def verl_rows(tasks: Sequence[str], seeds: Sequence[int], *, data_source: str = "craftworld") -> list[dict[str, Any]]:
    """The verl dataset rows, one per ``(task, seed)`` episode, routed to :class:`TextEnvAgentLoop`.

    ``prompt`` is a placeholder verl's dataset needs: the loop's prompt is the env's first observation.

    Examples:
        >>> verl_rows(["mine_block:oak_log"], [0])[0]["extra_info"]
        {'task': 'mine_block:oak_log', 'seed': 0}
    """
    return [
        {
            "data_source": data_source,
            "prompt": [{"role": "user", "content": f"{task} (seed {seed})"}],
            "agent_name": AGENT_NAME,
            "reward_model": {"style": "rule", "ground_truth": ""},
            "extra_info": {"task": task, "seed": int(seed)},
        }
        for task in tasks
        for seed in seeds
    ]


def sampling_constraint(grammar: str, engine: str) -> dict[str, Any]:
    """The sampling parameters that hold an answer to ``grammar`` on ``engine`` (verl passes them through).

    vLLM builds ``SamplingParams(**sampling_params)``, so it gets vLLM's own ``StructuredOutputsParams``
    (``GuidedDecodingParams`` for ``"vllm-legacy"``); SGLang takes a dict, with the grammar in ``ebnf``.

    Raises:
        ValueError: an unknown engine.
        ImportError: a vLLM engine where vLLM is not installed.

    Examples:
        >>> sampling_constraint("start: raw", "sglang")
        {'ebnf': 'start: raw'}
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if engine == "sglang":
        return {"ebnf": grammar}
    try:
        from vllm import sampling_params as vllm_params
    except ImportError as err:
        raise ImportError(f"engine={engine!r} needs vLLM installed where the agent loop runs") from err
    if engine == "vllm":
        return {"structured_outputs": vllm_params.StructuredOutputsParams(grammar=grammar)}
    return {"guided_decoding": vllm_params.GuidedDecodingParams(grammar=grammar)}


@register(AGENT_NAME)
class TextEnvAgentLoop(AgentLoopBase):  # type: ignore[misc]
    """One text-action env episode per row, through verl's inference servers.

    Args:
        *args: verl's (trainer config, server manager, tokenizer, processor, dataset class, data config).
        env_id: the gymnasium id of a text-action env; ``gymnasium.make(env_id, task=task, **env_kwargs)``.
        env_kwargs: passed to ``gymnasium.make``.
        grammar: ``None`` (free text), a space's name, or ``"chain"``: every answer is held to its
            generation grammar through ``sampling_params``.
        spaces, single: restrict a chain grammar (:func:`~actionspaces.decoding.generation_grammar`).
        engine: the serving engine (``"vllm"``, ``"vllm-legacy"``, ``"sglang"``) that reads the grammar.
        max_calls: model calls per episode at most (the env may end it sooner).
        token_penalty, format_penalty: λ per policy token and the cost of an unexecuted call.
        observation: what the model reads of an observation (``obs["text"]`` by default).
        system: the system message of every episode's chat (``None``: the chat template's default; a
            checkpoint's own is :func:`~actionspaces.chat.recorded_system_prompt`).
        **kwargs: the rest of verl's arguments.
    """

    def __init__(
        self,
        *args: Any,
        env_id: str = TEXT_CRAFTWORLD_ID,
        env_kwargs: Mapping[str, Any] | None = None,
        grammar: str | None = None,
        spaces: Sequence[str] | None = None,
        single: bool = True,
        engine: str = "vllm",
        max_calls: int = 16,
        token_penalty: float = TOKEN_PENALTY,
        format_penalty: float = FORMAT_PENALTY,
        observation: Callable[[Mapping[str, Any]], str] | None = None,
        system: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if max_calls < 1:
            raise ValueError(f"max_calls must be >= 1, got {max_calls}")
        check_penalties(token_penalty, format_penalty)
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs or {})
        self.max_calls = int(max_calls)
        self.token_penalty = float(token_penalty)
        self.format_penalty = float(format_penalty)
        self.read = observation or observation_text
        self.system = checked_system_prompt(system)
        self.response_length = int(self.rollout_config.response_length)
        self.constraint = (
            sampling_constraint(
                serving_grammar(grammar, engine=engine, spaces=list(spaces) if spaces else None, single=single),  # type: ignore[arg-type]
                engine,
            )
            if grammar is not None
            else {}
        )

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput:
        """Play the episode the row's ``extra_info`` names; its ids, masks, log-probs and return."""
        task, seed = _episode(kwargs.get("extra_info"))
        env = gym.make(self.env_id, task=task, **self.env_kwargs)
        try:
            return await self._play(env, task, seed, sampling_params)
        finally:
            env.close()

    async def _play(self, env: Any, task: str, seed: int, sampling_params: dict[str, Any]) -> AgentLoopOutput:
        obs, _ = await asyncio.to_thread(env.reset, seed=seed)
        chat = ChatTokens(self.tokenizer, self.read(obs), self.system)
        tokens = EpisodeTokens(task)
        drop = eos_ids(self.tokenizer) | {self.tokenizer.pad_token_id}
        timing = {"generate_sequences": 0.0, "tool_calls": 0.0}
        request_id = uuid4().hex  # one id per episode: verl keeps its turns on one server (prefix cache)
        for _ in range(self.max_calls):
            budget = self.response_length - len(tokens.ids)
            if budget <= 0:
                break
            start = time.perf_counter()
            output = await self.server_manager.generate(
                request_id=request_id, prompt_ids=chat.prompt_ids + tokens.ids,
                sampling_params={**sampling_params, **self.constraint, "max_tokens": budget},
            )  # fmt: skip
            timing["generate_sequences"] += time.perf_counter() - start
            ids = [int(i) for i in output.token_ids][:budget]
            tokens.model_turn(ids, output.log_probs)
            text = answer_text(self.tokenizer, ids, drop)
            start = time.perf_counter()
            obs, _, terminated, truncated, info = await asyncio.to_thread(env.step, text)
            timing["tool_calls"] += time.perf_counter() - start
            tokens.record(info)
            if terminated or truncated or len(tokens.turns) == self.max_calls:
                break
            tokens.env_turn(chat.env_turn(ids, text, self.read(obs))[: self.response_length - len(tokens.ids)])
        return AgentLoopOutput(
            prompt_ids=chat.prompt_ids,
            response_ids=tokens.ids,
            response_mask=tokens.mask,
            response_logprobs=tokens.logprobs,
            reward_score=tokens.episode_return(token_penalty=self.token_penalty, format_penalty=self.format_penalty),
            num_turns=1 + 2 * len(tokens.turns),
            metrics=AgentLoopMetrics(**timing),
            extra_fields={
                "success": tokens.success,
                "calls": len(tokens.turns),
                "policy_tokens": sum(tokens.turns),
                "task": task,
            },
        )


def _episode(extra_info: Any) -> tuple[str, int]:
    """The ``(task, seed)`` a row's ``extra_info`` names."""
    info = extra_info if isinstance(extra_info, Mapping) else {}
    task, seed = info.get("task"), info.get("seed", 0)
    if not isinstance(task, str) or isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(
            f"a row names its episode as extra_info={{'task': str, 'seed': int}} (see verl_rows), got {extra_info!r}"
        )
    return task, int(seed)
