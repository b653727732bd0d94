"""The registry of action spaces: one home for each space's name, prefix, tag, execution rank and order.

:func:`actionspaces.parse`, :class:`~actionspaces.ChainSpace` with no arguments, the generation grammars
and the ``actionspaces`` command read the spaces from here. The five CrossHA spaces are registered on
import; a custom space joins with :func:`register_space`, or from an installed package through the
entry-point group ``actionspaces.spaces`` whose entries load a :class:`SpaceEntry`:

.. code-block:: toml

    [project.entry-points."actionspaces.spaces"]
    hotbar = "my_package.spaces:HOTBAR_ENTRY"

Examples:
    >>> [entry.name for entry in registered_spaces()]
    ['raw', 'grounding', 'motion', 'language', 'latent']
    >>> space_entry("language").prefix, space_entry("language").tag
    ('Skill:', 'skill')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from typing import Any

from .space import ActionSpace
from .spaces import GroundingSpace, LanguageSpace, LatentSpace, MotionSpace, RawSpace

__all__ = [
    "ENTRY_POINT_GROUP",
    "SpaceEntry",
    "default_spaces",
    "execution_order",
    "register_space",
    "registered_controllers",
    "registered_spaces",
    "registry_version",
    "space_entry",
    "text_order",
    "unregister_space",
]

#: The entry-point group through which installed packages add spaces.
ENTRY_POINT_GROUP = "actionspaces.spaces"


@dataclass(frozen=True)
class SpaceEntry:
    """What the library knows of one action space.

    Attributes:
        space_type: the :class:`ActionSpace` subclass.
        execution_rank: which level is executed when several are present: the lowest rank (raw is 0).
        text_order: where the level stands in a written chain: the lowest first (language is 0, raw 40).
        tag: the XML tag of the reasoning dialect (``<skill>…</skill>``); the space's name by default.
        factory: builds the default instance (the class itself, called without arguments, by default).
        controller: builds the space's default :class:`~actionspaces.controllers.Controller` (no
            privileged state), which :class:`~actionspaces.envs.TextActionEnv` and CraftWorld's controller
            sets use; ``None`` when executing the space needs something only the user has (latent: a
            codebook; language: a skill policy).
        bare: whether a response with no prefix may be read as this space's body (free text may not).

    Examples:
        >>> entry = space_entry("raw")
        >>> type(entry.controller()).__name__, entry.bare, space_entry("language").bare
        ('RawController', True, False)
    """

    space_type: type[ActionSpace[Any]]
    execution_rank: int
    text_order: int
    tag: str = ""
    factory: Callable[[], ActionSpace[Any]] | None = None
    controller: Callable[[], Any] | None = None
    bare: bool = True

    def __post_init__(self) -> None:
        if not (isinstance(self.space_type, type) and issubclass(self.space_type, ActionSpace)):
            raise TypeError(f"SpaceEntry.space_type must be an ActionSpace subclass, got {self.space_type!r}")
        name = getattr(self.space_type, "name", None)
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{self.space_type.__name__}.name must be an identifier, got {name!r}")
        if not self.tag:
            object.__setattr__(self, "tag", name)
        if not self.tag.isidentifier():
            raise ValueError(f"the tag of space {name!r} must be an identifier, got {self.tag!r}")
        if self.controller is not None and not callable(self.controller):
            raise TypeError(f"the controller of space {name!r} must be a factory (a callable), got {self.controller!r}")
        if not isinstance(self.bare, bool):
            raise TypeError(f"bare of space {name!r} must be a bool, got {self.bare!r}")

    @property
    def name(self) -> str:
        """The space's name (``"raw"``)."""
        return self.space_type.name

    @property
    def prefix(self) -> str:
        """The prefix that introduces the space's level (``"Action:"``)."""
        return self.space_type.prefix

    def create(self) -> ActionSpace[Any]:
        """A fresh default instance of the space."""
        return (self.factory or self.space_type)()


_ENTRIES: dict[str, SpaceEntry] = {}
_state = {"version": 0, "entry_points_loaded": False}


def register_space(entry: SpaceEntry, *, replace: bool = False) -> SpaceEntry:
    """Add a space to the registry (so that :func:`actionspaces.parse` and the CLI read it).

    Raises:
        ValueError: a space of that name (or tag, or prefix) is registered already and ``replace`` is false.

    Examples:
        >>> from actionspaces import RawSpace
        >>> register_space(SpaceEntry(RawSpace, execution_rank=0, text_order=40))
        Traceback (most recent call last):
        ...
        ValueError: a space named 'raw' is registered already (pass replace=True to replace it)
    """
    if not isinstance(entry, SpaceEntry):
        raise TypeError(f"register_space takes a SpaceEntry, got {type(entry).__name__}")
    existing = _ENTRIES.get(entry.name)
    if existing is not None and not replace:
        raise ValueError(f"a space named {entry.name!r} is registered already (pass replace=True to replace it)")
    for other in _ENTRIES.values():
        if other.name == entry.name:
            continue
        if other.tag == entry.tag:
            raise ValueError(f"the tag {entry.tag!r} of space {entry.name!r} is space {other.name!r}'s already")
        if other.prefix.rstrip(":").lower() == entry.prefix.rstrip(":").lower():
            raise ValueError(f"the prefix {entry.prefix!r} of space {entry.name!r} is space {other.name!r}'s already")
    _ENTRIES[entry.name] = entry
    _state["version"] += 1
    return entry


def unregister_space(name: str) -> SpaceEntry:
    """Remove a space from the registry and return its entry (e.g. to restore a registry in a test).

    Raises:
        KeyError: no space of that name is registered.
    """
    entry = space_entry(name)
    del _ENTRIES[name]
    _state["version"] += 1
    return entry


def _load_entry_points() -> None:
    if _state["entry_points_loaded"]:
        return
    _state["entry_points_loaded"] = True
    for point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry = point.load()
        except Exception as err:
            raise ImportError(
                f"entry point {point.name!r} of {ENTRY_POINT_GROUP!r} ({point.value}) failed to load: {err}"
            ) from err
        if not isinstance(entry, SpaceEntry):
            raise TypeError(
                f"entry point {point.name!r} of {ENTRY_POINT_GROUP!r} ({point.value}) must load a SpaceEntry, "
                f"got {type(entry).__name__}"
            )
        register_space(entry)


def registered_spaces() -> tuple[SpaceEntry, ...]:
    """Every registered space, in registration order (the built-in five first)."""
    _load_entry_points()
    return tuple(_ENTRIES.values())


def registry_version() -> int:
    """A counter that changes with every registration (for caches of objects built from the registry)."""
    _load_entry_points()
    return _state["version"]


def space_entry(name: str) -> SpaceEntry:
    """The entry of the space called ``name``.

    Raises:
        KeyError: no such space; the message lists the registered ones.
    """
    _load_entry_points()
    if name not in _ENTRIES:
        raise KeyError(f"unknown action space {name!r}; registered: {', '.join(_ENTRIES)}")
    return _ENTRIES[name]


def default_spaces(replace: Mapping[str, ActionSpace[Any]] | None = None) -> list[ActionSpace[Any]]:
    """Fresh default instances of every registered space, in registration order, with ``replace``'s instead.

    Raises:
        KeyError: ``replace`` names a space that is not registered.

    Examples:
        >>> from actionspaces import LatentSpace
        >>> [s.name for s in default_spaces()]
        ['raw', 'grounding', 'motion', 'language', 'latent']
        >>> default_spaces({"latent": LatentSpace(codebook_size=8)})[-1].codebook_size
        8
    """
    given = dict(replace or {})
    names = [entry.name for entry in registered_spaces()]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise KeyError(f"replace names unregistered spaces {unknown}; registered: {', '.join(names)}")
    return [given[entry.name] if entry.name in given else entry.create() for entry in registered_spaces()]


def execution_order(names: list[str] | None = None) -> tuple[str, ...]:
    """Space names from the one executed first when present to the last (unregistered names last)."""
    return _sorted(names, "execution_rank")


def text_order(names: list[str] | None = None) -> tuple[str, ...]:
    """Space names in the order their levels are written in a chain (unregistered names last)."""
    return _sorted(names, "text_order")


def _sorted(names: list[str] | None, key: str) -> tuple[str, ...]:
    entries = {e.name: e for e in registered_spaces()}
    chosen = list(entries) if names is None else names
    return tuple(sorted(chosen, key=lambda n: (0, getattr(entries[n], key)) if n in entries else (1, 0)))


def registered_controllers(names: Iterable[str] | None = None, *, skip: Iterable[str] = ()) -> dict[str, Any]:
    """A fresh controller of each registered space (of ``names``) that declares one (``SpaceEntry.controller``).

    ``skip`` names the spaces whose controllers the caller builds itself (none is built for them).

    Examples:
        >>> sorted(registered_controllers())
        ['grounding', 'motion', 'raw']
        >>> sorted(registered_controllers(skip=["raw"]))
        ['grounding', 'motion']
    """
    wanted = None if names is None else set(names)
    skipped = set(skip)
    return {
        entry.name: entry.controller()
        for entry in registered_spaces()
        if entry.controller is not None and (wanted is None or entry.name in wanted) and entry.name not in skipped
    }


def _library_controller(class_name: str) -> Any:
    """A default instance of one of the library's controllers (imported when first built: no gymnasium on import)."""
    from . import controllers

    return getattr(controllers, class_name)()


_RAW = partial(_library_controller, "RawController")
_GROUNDING = partial(_library_controller, "GroundingController")
_MOTION = partial(_library_controller, "MotionController")
for _entry in (
    SpaceEntry(RawSpace, execution_rank=0, text_order=40, controller=_RAW),
    SpaceEntry(GroundingSpace, execution_rank=30, text_order=10, controller=_GROUNDING),
    SpaceEntry(MotionSpace, execution_rank=20, text_order=20, controller=_MOTION),
    SpaceEntry(LanguageSpace, execution_rank=40, text_order=0, tag="skill", bare=False),
    SpaceEntry(LatentSpace, execution_rank=10, text_order=30),
):
    register_space(_entry)
