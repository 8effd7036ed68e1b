"""The one exception type the local exchange's handlers raise to reject a request.

It lives with the matching engine (which also reports what a partly failed request changed);
this module is where the server-side layers import it from.
"""

from trio_binance.testing._engine import ExchangeError

__all__ = ["ExchangeError"]
