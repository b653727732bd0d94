"""The ``actionspaces`` command: parse, print grammars, validate files of model outputs, benchmark.

actionspaces parse "Motion: turn left\\nAction: move(-5, 0) and press(w)"
echo "Action: press(jump)" | actionspaces parse - --json
actionspaces grammar raw
actionspaces validate outputs.jsonl --field text
actionspaces bench
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__
from .chain import ChainSpace, default_spaces
from .errors import ParseError

__all__ = ["app", "error_kind", "main", "read_field"]

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Parse, check and benchmark VLA action text.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"actionspaces {__version__}")
        raise typer.Exit(0)


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Parse, check and benchmark VLA action text."""


_console = Console(highlight=False)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|-?\d+(?:\.\d+)?")


def _read(text: str) -> str:
    return sys.stdin.read() if text == "-" else text


def _space_names() -> list[str]:
    return [s.name for s in default_spaces()]


def error_kind(error: ParseError) -> str:
    """A grouping key for an error: its space and its message with quoted text and numbers masked.

    Examples:
        >>> from actionspaces import parse
        >>> error_kind(parse("Action: press(jump)").errors[0])
        "raw: unknown key '…' (did you mean '…'?)"
    """
    message = _QUOTED.sub(lambda m: "'…'" if m.group(0)[0] in "'\"" else "N", error.message)
    return f"{error.space or 'chain'}: {message}"


@app.command()
def parse(
    text: Annotated[str, typer.Argument(help="the model's response; '-' reads standard input")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Parse a response: its levels, the executable env action, and every error with a caret."""
    space = ChainSpace()
    response = _read(text)
    chain = space.parse(response)
    result = chain.to_dict()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        for level in chain.levels:
            detail = f"  {escape(repr(level.action))}" if level.ok else ""
            _console.print(f"{'[green]ok[/]' if level.ok else '[red]error[/]'}  [bold]{level.space}[/]{detail}")
        for error in chain.errors:
            _console.print(
                f"[red]{error.space or 'chain'}: {escape(error.message)}[/] (line {error.line}, column {error.column})"
            )
            _console.print(error.caret(), markup=False)
        if result["env_action"] is not None:
            pressed = {k: v for k, v in result["env_action"].items() if k == "camera" or v}
            _console.print(f"executes [bold]{result['executable_space']}[/]: {escape(str(pressed))}")
        elif result["execution_error"]:
            _console.print(f"[yellow]not executable here: {escape(result['execution_error'])}[/]")
    raise typer.Exit(0 if chain.ok else 1)


@app.command()
def grammar(
    space: Annotated[str, typer.Argument(help="raw, grounding, motion, language or latent (chain with --generation)")],
    generation: Annotated[
        bool, typer.Option("--generation", help="the llguidance grammar of the canonical output, for decoding")
    ] = False,
    spaces: Annotated[
        str | None, typer.Option(help="with --generation and chain: the spaces it may use, e.g. raw,grounding")
    ] = None,
) -> None:
    """Print a space's Lark grammar (the parser's, or with --generation the one constrained decoding uses)."""
    if generation:
        from .decoding import generation_grammar

        try:
            names = [n.strip() for n in spaces.split(",")] if spaces is not None else None
            typer.echo(generation_grammar(space, spaces=names), nl=False)
        except ValueError as err:
            typer.echo(str(err), err=True)
            raise typer.Exit(2) from None
        return
    known = {s.name: s for s in default_spaces()}
    if space not in known:
        typer.echo(f"unknown space {space!r}; choose one of {', '.join(known)}", err=True)
        raise typer.Exit(2)
    if spaces is not None:
        typer.echo("--spaces restricts a chain's generation grammar: add --generation", err=True)
        raise typer.Exit(2)
    typer.echo(known[space].grammar)


_STEP = re.compile(r"\.?([A-Za-z_][\w-]*)|\[(-?[0-9]+)\]")


def read_field(record: object, path: str) -> str:
    """The string at ``path`` in a JSON record: keys joined by ``.``, list indices in brackets.

    Raises:
        ValueError: ``path`` is malformed, or the record has no string there; the message says which step
            failed and what was found instead.

    Examples:
        >>> chat = {"messages": [{"role": "user", "content": "hi"}, {"content": "Action: no_op"}]}
        >>> read_field(chat, "messages[-1].content")
        'Action: no_op'
        >>> read_field({"text": "Action: no_op"}, "response")
        Traceback (most recent call last):
        ...
        ValueError: no key 'response' (the record has: text)
    """
    steps: list[str | int] = []
    pos = 0
    while pos < len(path):
        m = _STEP.match(path, pos)
        if m is None or (pos == 0 and path.startswith(".")):
            raise ValueError(f"malformed field path {path!r} at {path[pos:]!r} (write keys.like.this and [0] indices)")
        steps.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not steps:
        raise ValueError("empty field path")
    value, where = record, ""
    for step in steps:
        shown = where or "the record"
        if isinstance(step, str):
            if not isinstance(value, dict):
                raise ValueError(f"{shown} is {_kind(value)}, not an object with key {step!r}")
            if step not in value:
                keys = ", ".join(str(k) for k in list(value)[:12]) or "no keys"
                raise ValueError(f"no key {step!r}" + (f" in {where}" if where else "") + f" ({shown} has: {keys})")
            value, where = value[step], f"{where}.{step}" if where else step
        else:
            if not isinstance(value, list):
                raise ValueError(f"{shown} is {_kind(value)}, not a list to index with [{step}]")
            if not -len(value) <= step < len(value):
                raise ValueError(f"index [{step}] is out of range: {shown} has {len(value)} items")
            value, where = value[step], f"{where}[{step}]"
    if not isinstance(value, str):
        raise ValueError(f"{where} is {_kind(value)}, not a string")
    return value


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="a JSON Lines file, one response per line")],
    field: Annotated[
        str, typer.Option(help="where the response is in each record: a key, or a path such as messages[-1].content")
    ] = "text",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only failing lines and the summary")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON Lines: one object per record (the parsed chain), then a summary")
    ] = False,
) -> None:
    """Parse the response of every line of a JSON Lines file; print each result and a summary.

    Exits 1 when any line fails to parse or cannot be read, 2 when the file is missing.
    """
    if not path.is_file():
        typer.echo(f"no such file: {path}", err=True)
        raise typer.Exit(2)
    space = ChainSpace()
    per_space: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    failed = total = 0
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            total += 1
            try:
                text = read_field(json.loads(line), field)
            except (json.JSONDecodeError, ValueError) as err:
                failed += 1
                problem = f"not JSON: {err}" if isinstance(err, json.JSONDecodeError) else str(err)
                kinds[
                    "input: " + ("not JSON" if isinstance(err, json.JSONDecodeError) else f"no string at {field}")
                ] += 1
                if as_json:
                    typer.echo(json.dumps({"line": number, "ok": False, "input_error": problem}, ensure_ascii=False))
                else:
                    typer.echo(f"{path}:{number}: cannot read {field}: {problem}")
                continue
            chain = space.parse(text)
            for level in chain.levels:
                per_space[level.space] += 1
            if not chain.ok:
                failed += 1
                for error in chain.errors:
                    kinds[error_kind(error)] += 1
            if as_json:
                if not (quiet and chain.ok):
                    typer.echo(json.dumps({"line": number, **chain.to_dict()}, ensure_ascii=False))
            elif chain.ok:
                if not quiet:
                    typer.echo(f"{path}:{number}: ok ({' > '.join(chain.spaces)})")
            else:
                first = chain.errors[0]
                typer.echo(f"{path}:{number}: {first.space or 'chain'}: {first.message} (column {first.column})")
    if as_json:
        summary: dict[str, Any] = {"responses": total, "parsed": total - failed, "failed": failed}
        summary |= {"levels": dict(per_space), "errors": dict(kinds.most_common())}
        typer.echo(json.dumps({"summary": summary}, ensure_ascii=False))
        raise typer.Exit(1 if failed else 0)
    typer.echo(f"{total} responses, {total - failed} parsed, {failed} failed")
    table = Table()
    table.add_column("space / error")
    table.add_column("count", justify="right")
    for name in _space_names():
        table.add_row(f"levels: {name}", str(per_space[name]))
    for kind, count in kinds.most_common():
        table.add_row(f"[red]{escape(kind)}[/]", str(count))
    _console.print(table)
    raise typer.Exit(1 if failed else 0)


@app.command()
def bench(
    n: Annotated[int, typer.Option(min=1, help="sampled responses per space (at least 1)")] = 2000,
    seed: Annotated[int, typer.Option(help="sampling seed")] = 0,
) -> None:
    """Parser throughput per space on sampled, rendered actions (responses per second)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    table = Table(title=f"parse throughput ({n} sampled responses per space)")
    table.add_column("space")
    table.add_column("responses/s", justify="right")
    for space in default_spaces():
        texts = [space.render(space.sample(rng)) for _ in range(n)]
        start = time.perf_counter()
        for text in texts:
            space.parse(text)
        table.add_row(space.name, f"{n / (time.perf_counter() - start):,.0f}")
    _console.print(table)


def main() -> None:
    """Entry point of the ``actionspaces`` console script."""
    app()
