"""User-data streams on a session (filled in by the user-data work)."""

from __future__ import annotations


class UserDataMixin:
    """Mixed into :class:`~trio_binance.Session`: ``session.user_data()`` and friends."""
