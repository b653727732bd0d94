"""The ``actionspaces`` command: parse, print grammars, validate files of model outputs, benchmark.

actionspaces parse "Motion: turn left\\nAction: move(-5, 0) and press(w)"
echo "Action: press(jump)" | actionspaces parse - --json
actionspaces grammar raw
actionspaces validate outputs.jsonl --field text
actionspaces bench
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__
from .chain import ChainSpace, default_spaces
from .errors import ParseError

__all__ = ["MAX_LINE_BYTES", "app", "error_kind", "field_path", "main", "read_field", "shown"]

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


#: The longest line ``validate`` reads; a longer one is a per-line error (its bytes are skipped, not held).
MAX_LINE_BYTES = 16 * 2**20
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown(text: str) -> str:
    r"""``text`` safe for a terminal: control characters (escapes, ``\r``, bidi overrides) written as escapes.

    What a file or the standard input holds is printed through this, so that it can neither draw on the
    terminal nor forge a line of the command's own output.

    Examples:
        >>> shown("key\x1b[31m\nline 2")
        'key\\x1b[31m\\nline 2'
    """
    return _UNPRINTABLE.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def _json_line(value: object) -> str:
    """One JSON line whose strings keep their non-ASCII letters but escape every control character."""
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", json.dumps(value, ensure_ascii=False))


def _read(text: str) -> str:
    if text != "-":
        return text
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        typer.echo(f"standard input is not UTF-8 text: {err}", err=True)
        raise typer.Exit(2) from None


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
        typer.echo(_json_line(result))
    else:
        for level in chain.levels:
            detail = f"  {escape(shown(repr(level.action)))}" if level.ok else ""
            _console.print(f"{'[green]ok[/]' if level.ok else '[red]error[/]'}  [bold]{level.space}[/]{detail}")
        for error in chain.errors:
            where = f"(line {error.line}, column {error.column})"
            _console.print(f"[red]{error.space or 'chain'}: {escape(shown(error.message))}[/] {where}")
            _console.print("\n".join(map(shown, error.caret().split("\n"))), markup=False)
        if result["env_action"] is not None:
            pressed = {k: v for k, v in result["env_action"].items() if k == "camera" or v}
            _console.print(f"executes [bold]{result['executable_space']}[/]: {escape(shown(str(pressed)))}")
        elif result["execution_error"]:
            _console.print(f"[yellow]not executable here: {escape(shown(result['execution_error']))}[/]")
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


def field_path(path: str) -> list[str | int]:
    """The steps of a field path (``messages[-1].content`` → ``['messages', -1, 'content']``).

    Raises:
        ValueError: the path is empty or malformed; the message shows where.

    Examples:
        >>> field_path("messages[-1].content")
        ['messages', -1, 'content']
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
    return steps


def read_field(record: object, path: str | list[str | int]) -> str:
    """The string at ``path`` in a JSON record: keys joined by ``.``, list indices in brackets (or its steps).

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
    steps = field_path(path) if isinstance(path, str) else path
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


def _numbered_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """``(number, line)`` for each line ending in ``\\n`` (never ``\\r``); ``None`` for a line over the limit."""
    number = 0
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # skip the rest of the huge line without holding it
                line = stream.readline(MAX_LINE_BYTES)
            yield number, None
        else:
            yield number, line


def _joined(steps: list[str | int]) -> str:
    return "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps).removeprefix(".")


class _LineError(ValueError):
    """A line that holds no response to parse; ``kind`` groups it in the summary."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _response(line: bytes | None, steps: list[str | int]) -> str:
    """The response text of one line of a JSON Lines file (:class:`_LineError` says why there is none)."""
    if line is None:
        raise _LineError("line too long", f"line longer than {MAX_LINE_BYTES} bytes")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _LineError("not UTF-8", f"not UTF-8: {err}") from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        raise _LineError("not JSON", f"not JSON: {err}") from None
    except RecursionError:
        raise _LineError("nested too deeply", "not JSON this tool reads: nested too deeply") from None
    try:
        return read_field(record, steps)
    except ValueError as err:
        raise _LineError(f"no string at {shown(_joined(steps))}", str(err)) from None


def _open_input(path: Path) -> BinaryIO:
    if str(path) == "-":
        return sys.stdin.buffer
    if path.is_dir():
        typer.echo(f"{shown(str(path))} is a directory, not a JSON Lines file", err=True)
        raise typer.Exit(2)
    try:
        return path.open("rb")  # a file, a FIFO or a process substitution
    except FileNotFoundError:
        typer.echo(f"no such file: {shown(str(path))}", err=True)
    except OSError as err:
        typer.echo(f"cannot read {shown(str(path))}: {shown(str(err))}", err=True)
    raise typer.Exit(2)


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="a JSON Lines file, one response per line; '-' reads standard input")],
    field: Annotated[
        str, typer.Option(help="where the response is in each record: a key, or a path such as messages[-1].content")
    ] = "text",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only failing lines and the summary")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON Lines: one object per record (the parsed chain), then a summary")
    ] = False,
) -> None:
    """Parse the response of every line of a JSON Lines file; print each result and a summary.

    Lines end at a newline only (a carriage return inside a record is not a line break). A line that is
    not UTF-8, not JSON, nested too deeply, longer than 16 MiB or without a string at the field is a failed
    line, and the summary is always printed. What the file holds is printed with its control characters
    escaped. Exits 1 when any line fails, 2 when the input cannot be opened or --field is malformed.
    """
    try:
        steps = field_path(field)
    except ValueError as err:
        typer.echo(f"--field: {shown(str(err))}", err=True)
        raise typer.Exit(2) from None
    name = "<stdin>" if str(path) == "-" else shown(str(path))
    space = ChainSpace()
    per_space: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    failed = total = 0
    with _open_input(path) as stream:
        for number, line in _numbered_lines(stream):
            if line is not None and not line.strip():
                continue
            total += 1
            try:
                text = _response(line, steps)
            except _LineError as err:
                failed += 1
                kinds[f"input: {err.kind}"] += 1
                if as_json:
                    typer.echo(_json_line({"line": number, "ok": False, "input_error": str(err)}))
                else:
                    typer.echo(f"{name}:{number}: cannot read {shown(field)}: {shown(str(err))}")
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
                    typer.echo(_json_line({"line": number, **chain.to_dict()}))
            elif chain.ok:
                if not quiet:
                    typer.echo(f"{name}:{number}: ok ({' > '.join(chain.spaces)})")
            else:
                first = chain.errors[0]
                typer.echo(f"{name}:{number}: {first.space or 'chain'}: {shown(first.message)} (column {first.column})")
    _summary(total, failed, per_space, kinds, as_json=as_json)
    raise typer.Exit(1 if failed else 0)


def _summary(total: int, failed: int, per_space: Counter[str], kinds: Counter[str], *, as_json: bool) -> None:
    if as_json:
        summary: dict[str, Any] = {"responses": total, "parsed": total - failed, "failed": failed}
        summary |= {"levels": dict(per_space), "errors": dict(kinds.most_common())}
        typer.echo(_json_line({"summary": summary}))
        return
    typer.echo(f"{total} responses, {total - failed} parsed, {failed} failed")
    table = Table()
    table.add_column("space / error")
    table.add_column("count", justify="right")
    for space_name in _space_names():
        table.add_row(f"levels: {space_name}", str(per_space[space_name]))
    for kind, count in kinds.most_common():
        table.add_row(f"[red]{escape(shown(kind))}[/]", str(count))
    _console.print(table)


@app.command()
def bench(
    n: Annotated[int, typer.Option(min=1, help="sampled responses per space (at least 1)")] = 2000,
    seed: Annotated[int, typer.Option(min=0, help="sampling seed (a non-negative int)")] = 0,
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
    """Entry point of the ``actionspaces`` console script.

    A failure no command foresaw ends with one line naming it and exit status 1, not a traceback; set
    ``ACTIONSPACES_DEBUG=1`` to see the traceback.
    """
    try:
        app()
    except Exception as err:
        if os.environ.get("ACTIONSPACES_DEBUG"):
            raise
        typer.echo(
            f"actionspaces: internal error: {type(err).__name__}: {shown(str(err))} (please report it)", err=True
        )
        sys.exit(1)
