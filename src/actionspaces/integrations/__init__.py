"""Adapters that plug actionspaces' rewards into other trainers: :mod:`.trl` and :mod:`.verl`."""
