"""The player's inventory: 36 slots (hotbar 0–8, main 9–35) of ``(item, count)`` stacks."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .catalog import stack_size

__all__ = ["HOTBAR_SLOTS", "INVENTORY_SLOTS", "Inventory", "Stack"]

INVENTORY_SLOTS = 36
HOTBAR_SLOTS = 9


@dataclass
class Stack:
    """Some number of one item in one slot."""

    item: str
    count: int

    def copy(self) -> Stack:
        """A copy of this stack."""
        return Stack(self.item, self.count)


class Inventory:
    """Slots 0–8 are the hotbar, 9–35 the main inventory, as MineRL numbers them.

    Examples:
        >>> inv = Inventory()
        >>> inv.add("oak_log", 70)
        0
        >>> inv.counts()
        {'oak_log': 70}
        >>> inv.slots[0].count, inv.slots[1].count
        (64, 6)
    """

    def __init__(self) -> None:
        self.slots: list[Stack | None] = [None] * INVENTORY_SLOTS

    def add(self, item: str, count: int = 1, order: range | list[int] | None = None) -> int:
        """Add items, filling matching stacks then empty slots (hotbar first); returns what did not fit."""
        if count < 0:
            raise ValueError(f"cannot add a negative count ({count}) of {item}")
        limit = stack_size(item)
        slots = list(order) if order is not None else list(range(INVENTORY_SLOTS))
        for index in slots:
            stack = self.slots[index]
            if count and stack is not None and stack.item == item and stack.count < limit:
                moved = min(count, limit - stack.count)
                stack.count += moved
                count -= moved
        for index in slots:
            if count and self.slots[index] is None:
                moved = min(count, limit)
                self.slots[index] = Stack(item, moved)
                count -= moved
        return count

    def remove(self, item: str, count: int = 1) -> None:
        """Take ``count`` of ``item`` out (from the last slots first); raises if there are too few."""
        if self.count(item) < count:
            raise ValueError(f"the inventory holds {self.count(item)} {item}, cannot remove {count}")
        for index in reversed(range(INVENTORY_SLOTS)):
            stack = self.slots[index]
            if count and stack is not None and stack.item == item:
                taken = min(count, stack.count)
                stack.count -= taken
                count -= taken
                if stack.count == 0:
                    self.slots[index] = None

    def count(self, item: str) -> int:
        """How many of ``item`` the inventory holds."""
        return sum(s.count for s in self.slots if s is not None and s.item == item)

    def counts(self) -> dict[str, int]:
        """Item → total count, as MineRL's ``inventory`` observation (items present only)."""
        totals: Counter[str] = Counter()
        for stack in self.slots:
            if stack is not None:
                totals[stack.item] += stack.count
        return dict(totals)

    def find(self, item: str) -> int | None:
        """The first slot holding ``item``, or ``None``."""
        return next((i for i, s in enumerate(self.slots) if s is not None and s.item == item), None)

    def copy(self) -> Inventory:
        """A deep copy."""
        other = Inventory()
        other.slots = [s.copy() if s is not None else None for s in self.slots]
        return other
