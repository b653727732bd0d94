"""Minecraft crafting recipes (Minecraft 1.16.5's, from the world data file) and the game's grid matching rules.

Shaped recipes match when the crafting grid's occupied cells, trimmed to their bounding box, equal the
pattern or its mirror image, anywhere in the grid; shapeless recipes match when the occupied cells hold
exactly the listed ingredients in any arrangement. An ingredient starting with ``#`` is a tag (any of
several items, e.g. ``#planks``); the default book has none, since the data lists one recipe per
ingredient choice (a stick from oak planks, another from birch planks …). The first recipe for an item
is the one a crafting task hands out the ingredients of.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from .catalog import world_data

__all__ = ["Grid", "Recipe", "RecipeBook"]

#: A crafting grid, row by row; ``None`` is an empty cell.
Grid = Sequence[Sequence[str | None]]


class Recipe(BaseModel):
    """One crafting recipe: shaped (``pattern`` + ``key``) or shapeless (``ingredients``).

    Examples:
        >>> stick = RecipeBook.default().recipe_for("stick")
        >>> stick.pattern, stick.count, stick.size
        (('A', 'A'), 4, (2, 1))
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    result: str
    count: int = 1
    pattern: tuple[str, ...] | None = None
    key: tuple[tuple[str, str], ...] | None = None
    ingredients: tuple[str, ...] | None = None

    @field_validator("key", mode="before")
    @classmethod
    def _key_pairs(cls, value: object) -> object:
        return tuple(sorted(value.items())) if isinstance(value, Mapping) else value

    @model_validator(mode="after")
    def _one_kind(self) -> Recipe:
        if (self.pattern is None) == (self.ingredients is None):
            raise ValueError(f"recipe for {self.result!r} needs either a pattern or ingredients")
        if not 1 <= self.count <= 64:
            raise ValueError(f"recipe for {self.result!r}: count {self.count} outside 1..64")
        if self.pattern is not None:
            if (
                not 1 <= len(self.pattern) <= 3
                or len({len(row) for row in self.pattern}) != 1
                or len(self.pattern[0]) > 3
            ):
                raise ValueError(f"recipe for {self.result!r}: the pattern must be a rectangle of at most 3×3")
            keys = dict(self.key or ())
            missing = {c for row in self.pattern for c in row if c != " "} - set(keys)
            if missing:
                raise ValueError(f"recipe for {self.result!r}: pattern symbols {sorted(missing)} have no key")
        elif not 1 <= len(self.ingredients or ()) <= 9:
            raise ValueError(f"recipe for {self.result!r}: 1 to 9 ingredients")
        return self

    @property
    def shaped(self) -> bool:
        """Whether the arrangement matters."""
        return self.pattern is not None

    @property
    def size(self) -> tuple[int, int]:
        """``(rows, columns)`` the recipe needs at least (shapeless: fits any grid with enough cells)."""
        if self.pattern is not None:
            return len(self.pattern), len(self.pattern[0])
        n = len(self.ingredients or ())
        return (1, n) if n <= 3 else ((2, 2) if n == 4 else (3, 3))

    def cells(self) -> list[list[str | None]]:
        """The pattern as ingredient specs per cell (``None`` for empty); shaped recipes only."""
        if self.pattern is None:
            raise ValueError(f"{self.result} is shapeless")
        keys = dict(self.key or ())
        return [[keys[c] if c != " " else None for c in row] for row in self.pattern]

    @property
    def filled_cells(self) -> tuple[str, ...]:
        """The ingredient spec of every cell the recipe fills (a shapeless recipe's ingredients)."""
        if self.ingredients is not None:
            return self.ingredients
        keys = dict(self.key or ())
        return tuple(keys[c] for row in self.pattern or () for c in row if c != " ")


class RecipeBook:
    """A set of recipes with their tags; finds the recipe a grid makes.

    Examples:
        >>> book = RecipeBook.default()
        >>> book.match([["oak_planks", None], ["oak_planks", None]]).result
        'stick'
        >>> book.match([[None, None, None], [None, "oak_log", None], [None, None, None]]).count
        4
        >>> book.match([["dirt", None], [None, None]]) is None
        True
    """

    def __init__(self, recipes: Sequence[Recipe], tags: Mapping[str, Sequence[str]]) -> None:
        self.recipes = tuple(recipes)
        self.tags = {name: tuple(items) for name, items in tags.items()}
        for name in self.tags:
            if not name.startswith("#"):
                raise ValueError(f"tag names start with '#', got {name!r}")
        for recipe in self.recipes:
            for spec in self._specs(recipe):
                if spec.startswith("#") and spec not in self.tags:
                    raise ValueError(f"recipe for {recipe.result!r} uses unknown tag {spec!r}")
        self._cells = {id(r): r.cells() for r in self.recipes if r.shaped}
        self._matches: dict[tuple[tuple[str | None, ...], ...], Recipe | None] = {}
        self._by_result: dict[str, list[Recipe]] = {}
        # candidates by how many cells a recipe fills: a grid is only checked against recipes of its count
        self._by_cells: dict[int, list[Recipe]] = {}
        for recipe in self.recipes:
            self._by_result.setdefault(recipe.result, []).append(recipe)
            self._by_cells.setdefault(len(recipe.filled_cells), []).append(recipe)

    @staticmethod
    @cache
    def default() -> RecipeBook:
        """Minecraft 1.16.5's crafting recipes (the world data file, from ``minecraft-data``)."""
        recipes = [Recipe(result=result, **variant) for result, variants in world_data()["recipes"].items()
                   for variant in variants]  # fmt: skip
        return RecipeBook(recipes, {})

    @classmethod
    def from_json(cls, text: str) -> RecipeBook:
        """Read ``{"tags": {...}, "recipes": [...]}``."""
        data = json.loads(text)
        if not isinstance(data, dict) or "recipes" not in data:
            raise ValueError("a recipe file is a JSON object with a 'recipes' list (and optional 'tags')")
        return cls([Recipe.model_validate(r) for r in data["recipes"]], data.get("tags", {}))

    @staticmethod
    def _specs(recipe: Recipe) -> list[str]:
        return [spec for _, spec in recipe.key or ()] + list(recipe.ingredients or ())

    def accepts(self, spec: str, item: str | None) -> bool:
        """Whether ``item`` satisfies the ingredient ``spec`` (an item name or a ``#tag``)."""
        if item is None:
            return False
        return item in self.tags[spec] if spec.startswith("#") else item == spec

    def resolve(self, spec: str) -> str:
        """One concrete item for ``spec`` (a tag's first member, e.g. ``oak_planks`` for ``#planks``)."""
        return self.tags[spec][0] if spec.startswith("#") else spec

    def recipe_for(self, result: str) -> Recipe:
        """The first recipe that makes ``result`` (the one a crafting task hands out)."""
        return self.recipes_for(result)[0]

    def recipes_for(self, result: str) -> list[Recipe]:
        """Every recipe that makes ``result``, in the data's order."""
        try:
            return self._by_result[result]
        except KeyError:
            raise KeyError(f"no recipe makes {result!r}") from None

    @property
    def results(self) -> tuple[str, ...]:
        """Every item some recipe makes, in file order."""
        return tuple(self._by_result)

    def match(self, grid: Grid) -> Recipe | None:
        """The recipe the grid's contents make, or ``None`` (memoised: grids repeat while a player works)."""
        key = tuple(tuple(row) for row in grid)
        if key in self._matches:
            return self._matches[key]
        result = self._match(key)
        if len(self._matches) > 4096:
            self._matches.clear()
        self._matches[key] = result
        return result

    def _match(self, grid: Grid) -> Recipe | None:
        rows = [list(row) for row in grid]
        occupied = [(r, c) for r, row in enumerate(rows) for c, item in enumerate(row) if item is not None]
        if not occupied:
            return None
        top, bottom = min(r for r, _ in occupied), max(r for r, _ in occupied)
        left, right = min(c for _, c in occupied), max(c for _, c in occupied)
        trimmed = [row[left : right + 1] for row in rows[top : bottom + 1]]
        items = [rows[r][c] for r, c in occupied]
        for recipe in self._by_cells.get(len(occupied), ()):
            if recipe.shaped:
                if self._shaped_match(recipe, trimmed):
                    return recipe
            elif self._shapeless_match(list(recipe.ingredients or ()), items):
                return recipe
        return None

    def _shaped_match(self, recipe: Recipe, trimmed: list[list[str | None]]) -> bool:
        cells = self._cells[id(recipe)]
        if len(cells) != len(trimmed) or len(cells[0]) != len(trimmed[0]):
            return False
        for pattern in (cells, [row[::-1] for row in cells]):
            if all(
                (spec is None and item is None) or (spec is not None and self.accepts(spec, item))
                for prow, grow in zip(pattern, trimmed, strict=True)
                for spec, item in zip(prow, grow, strict=True)
            ):
                return True
        return False

    def _shapeless_match(self, specs: list[str], items: list[str | None]) -> bool:
        if len(specs) != len(items):
            return False
        if not specs:
            return True
        item = items[0]
        return any(
            self.accepts(spec, item) and self._shapeless_match(specs[:i] + specs[i + 1 :], items[1:])
            for i, spec in enumerate(specs)
        )
