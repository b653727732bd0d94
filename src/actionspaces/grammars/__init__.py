"""The Lark grammars of the action spaces, shipped as package data (one ``<space>.lark`` file each)."""
