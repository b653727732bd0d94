"""The package's modules import each other without cycles, and the layers depend downwards only."""

import ast
from collections.abc import Iterator
from pathlib import Path

import actionspaces

ROOT = Path(actionspaces.__file__).parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``tree`` that runs: inside functions too, but not under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            yield from (n for child in node.orelse for n in (child, *runtime_nodes(child)))
            continue
        yield node
        yield from runtime_nodes(node)


def imports_of(path: Path) -> set[str]:
    """Every actionspaces module ``path`` imports when it runs, at any depth (functions included)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    modules = {module_name(p) for p in ROOT.rglob("*.py")}
    found: set[str] = set()
    for node in runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            targets = [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            if target in modules:
                found.add(target)
    # importing a.b.c first runs the __init__ of a.b: an edge to it too
    for target in list(found):
        parts = target.split(".")
        found.update(".".join(parts[:k]) for k in range(2, len(parts)))
    # a package's __init__ has already started when one of its modules runs: not an edge
    return {t for t in found if not (name == t or name.startswith(t + "."))}


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in ROOT.rglob("*.py")}


def test_no_import_cycles():
    edges = graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


# what each layer may import: lower layers never import higher ones
FORBIDDEN = {
    "actionspaces.controllers": ("actionspaces.envs", "actionspaces.grpo", "actionspaces.integrations"),
    "actionspaces.spaces": ("actionspaces.controllers", "actionspaces.envs", "actionspaces.grpo"),
    "actionspaces.chain": ("actionspaces.controllers", "actionspaces.envs", "actionspaces.grpo"),
    "actionspaces.rewards": ("actionspaces.grpo", "actionspaces.envs", "actionspaces.controllers"),
    "actionspaces.state": ("actionspaces.controllers", "actionspaces.envs"),
    "actionspaces.chat": ("actionspaces.training", "actionspaces.integrations", "actionspaces.envs"),
    "actionspaces.statistics": ("actionspaces.envs", "actionspaces.grpo", "actionspaces.training"),
    "actionspaces.envs.craftworld.knowledge": ("actionspaces.grpo", "actionspaces.training"),
}


def test_layers_depend_downwards_only():
    bad = [
        (module, target)
        for module, targets in graph().items()
        for layer, forbidden in FORBIDDEN.items()
        if module == layer or module.startswith(layer + ".")
        for target in targets
        if target.startswith(forbidden)
    ]
    assert not bad, bad


def test_the_graph_sees_imports_at_every_depth():
    # the walker must find an import inside a function (the way a cycle used to be dodged), and skip the
    # imports only a type checker runs
    found = imports_of(ROOT / "envs" / "craftworld" / "env.py")
    assert "actionspaces.envs.craftworld.render" in found and "actionspaces.canonical" in found
    assert "actionspaces.decoding.constraint" not in imports_of(ROOT / "decoding" / "processor.py")
