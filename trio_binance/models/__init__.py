"""Typed models for everything the exchange sends: results, user-data and market events."""

from trio_binance.models._base import Model, OpenEnum
from trio_binance.models._common import RateLimit, RateLimitInterval, RateLimitType

__all__ = ["Model", "OpenEnum", "RateLimit", "RateLimitInterval", "RateLimitType"]
