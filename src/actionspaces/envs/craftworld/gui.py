"""The inventory and crafting-table screens, laid out as Minecraft's at GUI scale 1, with its click rules.

Both screens are a 176×166 px panel centred on the 640×360 window. Slot positions are the game's
(``InventoryMenu`` and ``CraftingMenu``): a slot at ``(x, y)`` draws its 16×16 item there and is hovered
when the mouse is within ``[x − 1, x + 17)`` on both axes, so neighbouring slots (18 px apart) share
no pixel and leave no gap.

Clicks follow Minecraft: a left click picks up, puts down, merges or swaps a whole stack; a right click
picks up half or puts down one; clicking the result slot takes the product and consumes one item from
each grid cell; shift-clicking the result crafts as many as fit into the inventory; shift-clicking an
inventory slot moves its stack between the hotbar and the main inventory; clicking outside the panel
drops what the cursor holds (all of it, or one with a right click).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from .catalog import stack_size
from .inventory import HOTBAR_SLOTS, INVENTORY_SLOTS, Inventory, Stack
from .recipes import Recipe, RecipeBook

__all__ = ["PANEL_HEIGHT", "PANEL_WIDTH", "SCREEN_KINDS", "Screen", "SlotRef"]

PANEL_WIDTH, PANEL_HEIGHT = 176, 166
SCREEN_KINDS = ("inventory", "crafting_table")

ScreenKind = Literal["inventory", "crafting_table"]
Button = Literal["left", "right"]


@dataclass(frozen=True)
class SlotRef:
    """A slot of a screen: ``("grid", i)``, ``("result", 0)`` or ``("inventory", i)`` (MineRL numbering)."""

    area: Literal["grid", "result", "inventory"]
    index: int

    def __str__(self) -> str:
        return "result" if self.area == "result" else f"{self.area}[{self.index}]"


# Slot origins (the item's top-left corner) relative to the panel, as in Minecraft's menus.
_INVENTORY_ORIGINS = {
    **{SlotRef("inventory", i): (8 + 18 * i, 142) for i in range(HOTBAR_SLOTS)},
    **{SlotRef("inventory", 9 + i): (8 + 18 * (i % 9), 84 + 18 * (i // 9)) for i in range(27)},
}
_LAYOUTS: dict[str, dict[SlotRef, tuple[int, int]]] = {
    "inventory": {
        SlotRef("result", 0): (154, 28),
        **{SlotRef("grid", i): (98 + 18 * (i % 2), 18 + 18 * (i // 2)) for i in range(4)},
        **_INVENTORY_ORIGINS,
    },
    "crafting_table": {
        SlotRef("result", 0): (124, 35),
        **{SlotRef("grid", i): (30 + 18 * (i % 3), 17 + 18 * (i // 3)) for i in range(9)},
        **_INVENTORY_ORIGINS,
    },
}
# Where a shift-clicked result goes: hotbar right to left, then the main inventory bottom-right first.
_RESULT_ORDER = list(range(HOTBAR_SLOTS - 1, -1, -1)) + list(range(INVENTORY_SLOTS - 1, HOTBAR_SLOTS - 1, -1))


@dataclass
class Screen:
    """An open inventory or crafting-table screen: its crafting grid and the stack on the cursor.

    Examples:
        >>> inv = Inventory(); _ = inv.add("oak_log", 2)
        >>> screen = Screen("inventory", width=640, height=360)
        >>> crafted = Counter()
        >>> screen.click(SlotRef("inventory", 0), "left", False, inv, crafted)   # pick up the logs
        >>> screen.click(SlotRef("grid", 0), "right", False, inv, crafted)       # put one in the grid
        >>> screen.result(RecipeBook.default()).result
        'oak_planks'
        >>> screen.click(SlotRef("result", 0), "left", False, inv, crafted)      # the cursor holds 1 log
        >>> screen.cursor, dict(crafted)
        (Stack(item='oak_log', count=1), {})
    """

    kind: ScreenKind
    width: int = 640
    height: int = 360
    book: RecipeBook = field(default_factory=RecipeBook.default)
    grid: list[Stack | None] = field(default_factory=list)
    cursor: Stack | None = None

    def __post_init__(self) -> None:
        if self.kind not in SCREEN_KINDS:
            raise ValueError(f"unknown screen {self.kind!r}; use one of {SCREEN_KINDS}")
        if not self.grid:
            self.grid = [None] * (4 if self.kind == "inventory" else 9)

    # ---------------------------------------------------------------------------------------- layout
    @property
    def grid_side(self) -> int:
        """2 for the inventory's grid, 3 for the crafting table's."""
        return 2 if self.kind == "inventory" else 3

    @property
    def origin(self) -> tuple[int, int]:
        """The panel's top-left pixel on the window."""
        return (self.width - PANEL_WIDTH) // 2, (self.height - PANEL_HEIGHT) // 2

    def slot_centre(self, ref: SlotRef) -> tuple[float, float]:
        """The window pixel at the centre of a slot's 16×16 box."""
        x, y = _LAYOUTS[self.kind][ref]
        ox, oy = self.origin
        return ox + x + 8.0, oy + y + 8.0

    def slots(self) -> list[SlotRef]:
        """Every slot of the screen."""
        return list(_LAYOUTS[self.kind])

    def slot_at(self, px: float, py: float) -> SlotRef | None:
        """The slot under the window pixel ``(px, py)``, or ``None``."""
        ox, oy = self.origin
        mx, my = px - ox, py - oy
        for ref, (x, y) in _LAYOUTS[self.kind].items():
            if x - 1 <= mx < x + 17 and y - 1 <= my < y + 17:
                return ref
        return None

    def inside_panel(self, px: float, py: float) -> bool:
        """Whether the pixel is on the panel (a click elsewhere drops the cursor's stack)."""
        ox, oy = self.origin
        return ox <= px < ox + PANEL_WIDTH and oy <= py < oy + PANEL_HEIGHT

    # ------------------------------------------------------------------------------------ crafting
    def grid_rows(self) -> list[list[str | None]]:
        """The grid's items, row by row."""
        side = self.grid_side
        return [[s.item if s else None for s in self.grid[r * side : (r + 1) * side]] for r in range(side)]

    def result(self, book: RecipeBook | None = None) -> Recipe | None:
        """The recipe the grid currently makes."""
        return (book or self.book).match(self.grid_rows())

    def _consume_grid(self) -> None:
        for i, stack in enumerate(self.grid):
            if stack is not None:
                stack.count -= 1
                if stack.count == 0:
                    self.grid[i] = None

    # --------------------------------------------------------------------------------------- clicks
    def click_at(
        self, px: float, py: float, button: Button, *, shift: bool, inventory: Inventory, crafted: Counter[str]
    ) -> SlotRef | None:
        """A mouse click at a window pixel; returns the slot clicked (``None``: outside any slot)."""
        ref = self.slot_at(px, py)
        if ref is not None:
            self.click(ref, button, shift, inventory, crafted)
        elif not self.inside_panel(px, py) and self.cursor is not None:
            self.cursor.count -= self.cursor.count if button == "left" else 1
            if self.cursor.count == 0:
                self.cursor = None
        return ref

    def click(self, ref: SlotRef, button: Button, shift: bool, inventory: Inventory, crafted: Counter[str]) -> None:
        """Click a slot; ``crafted`` counts the items taken from the result slot (``craft_item``)."""
        if ref.area == "result":
            self._click_result(shift, inventory, crafted)
            return
        slots = self.grid if ref.area == "grid" else inventory.slots
        if shift:
            self._quick_move(ref, slots, inventory)
            return
        slot = slots[ref.index]
        cursor = self.cursor
        if cursor is None:
            if slot is not None:
                take = slot.count if button == "left" else (slot.count + 1) // 2
                self.cursor = Stack(slot.item, take)
                slot.count -= take
                if slot.count == 0:
                    slots[ref.index] = None
            return
        if slot is None:
            put = cursor.count if button == "left" else 1
            slots[ref.index] = Stack(cursor.item, put)
            cursor.count -= put
        elif slot.item == cursor.item:
            room = stack_size(slot.item) - slot.count
            put = min(room, cursor.count if button == "left" else 1)
            slot.count += put
            cursor.count -= put
        else:
            slots[ref.index], self.cursor = cursor, slot
            return
        if cursor.count == 0:
            self.cursor = None

    def _click_result(self, shift: bool, inventory: Inventory, crafted: Counter[str]) -> None:
        recipe = self.result()
        if recipe is None:
            return
        if shift:
            while recipe is not None:
                trial = inventory.copy()
                if trial.add(recipe.result, recipe.count, order=_RESULT_ORDER):
                    return  # no room for a whole batch: Minecraft stops crafting
                inventory.add(recipe.result, recipe.count, order=_RESULT_ORDER)
                crafted[recipe.result] += recipe.count
                self._consume_grid()
                recipe = self.result()
            return
        if self.cursor is None:
            self.cursor = Stack(recipe.result, recipe.count)
        elif self.cursor.item == recipe.result and self.cursor.count + recipe.count <= stack_size(recipe.result):
            self.cursor.count += recipe.count
        else:
            return
        crafted[recipe.result] += recipe.count
        self._consume_grid()

    def _quick_move(self, ref: SlotRef, slots: list[Stack | None], inventory: Inventory) -> None:
        stack = slots[ref.index]
        if stack is None:
            return
        if ref.area == "grid":
            order = list(range(HOTBAR_SLOTS, INVENTORY_SLOTS)) + list(range(HOTBAR_SLOTS))
        elif ref.index < HOTBAR_SLOTS:
            order = list(range(HOTBAR_SLOTS, INVENTORY_SLOTS))
        else:
            order = list(range(HOTBAR_SLOTS))
        slots[ref.index] = None
        left = inventory.add(stack.item, stack.count, order=order)
        if left:
            slots[ref.index] = Stack(stack.item, left)

    def close(self, inventory: Inventory) -> int:
        """Return the grid's and the cursor's items to the inventory; returns how many did not fit (dropped)."""
        dropped = 0
        for stack in [*self.grid, self.cursor]:
            if stack is not None:
                dropped += inventory.add(stack.item, stack.count)
        self.grid = [None] * len(self.grid)
        self.cursor = None
        return dropped

    def contents(self) -> list[tuple[SlotRef, Stack]]:
        """Every non-empty grid slot, in order (the result is computed, not stored)."""
        return [(SlotRef("grid", i), s) for i, s in enumerate(self.grid) if s is not None]
