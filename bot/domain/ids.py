"""Identifier value types.

`NewType` keeps them free at run time while mypy refuses to mix a venue name
with a symbol or a currency code, the kind of swap that routes a hedge to the
wrong account.
"""

from typing import NewType

VenueId = NewType("VenueId", str)
"""Name of a configured venue account, e.g. ``"deribit-main"`` (not the ccxt id)."""

Symbol = NewType("Symbol", str)
"""ccxt unified symbol, e.g. ``"BTC/USD:BTC"`` or ``"BTC/USD:BTC-261225-60000-C"``."""

Currency = NewType("Currency", str)
"""Upper-case currency code, e.g. ``"BTC"``, ``"USD"``, ``"USDC"``."""

ClientOrderId = NewType("ClientOrderId", str)
"""Deterministic client order id (Deribit ``label``, ``clientOrderId`` elsewhere)."""
