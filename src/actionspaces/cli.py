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
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .chain import ChainSpace, default_spaces
from .errors import ParseError

__all__ = ["app", "error_kind", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Parse, check and benchmark VLA action text.")
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


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="a JSON Lines file, one response per line")],
    field: Annotated[str, typer.Option(help="the key that holds the response text")] = "text",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only failing lines and the summary")] = False,
) -> None:
    """Parse every line's ``field``; print each result and a summary; exit 1 when anything fails."""
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
                record = json.loads(line)
                text = record[field]
                if not isinstance(text, str):
                    raise TypeError(f"{field!r} is {type(text).__name__}, not a string")
            except (json.JSONDecodeError, KeyError, TypeError) as err:
                failed += 1
                kinds["input: " + type(err).__name__] += 1
                typer.echo(f"{path}:{number}: cannot read {field!r}: {err}")
                continue
            chain = space.parse(text)
            for level in chain.levels:
                per_space[level.space] += 1
            if chain.ok:
                if not quiet:
                    typer.echo(f"{path}:{number}: ok ({' > '.join(chain.spaces)})")
                continue
            failed += 1
            for error in chain.errors:
                kinds[error_kind(error)] += 1
            first = chain.errors[0]
            typer.echo(f"{path}:{number}: {first.space or 'chain'}: {first.message} (column {first.column})")
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
    n: Annotated[int, typer.Option(help="distinct responses per space")] = 2000,
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
