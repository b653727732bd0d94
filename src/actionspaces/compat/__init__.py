"""Reference behaviour of other projects, reproduced for comparison (not used by the parsers)."""

from .openha import openha_decode_raw

__all__ = ["openha_decode_raw"]
