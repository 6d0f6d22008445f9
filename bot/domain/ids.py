"""Identifier value types.

`NewType` keeps them free at run time while mypy refuses to mix a venue name
with a symbol or a currency code, the kind of swap that routes a hedge to the
wrong account.
"""

import re
from typing import Final, NewType

VenueId = NewType("VenueId", str)
"""Name of a configured venue account, e.g. ``"deribit-main"`` (not the ccxt id)."""

_VENUE_NAME: Final = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


def venue_id(name: str) -> VenueId:
    """``name`` as a venue name (a config's venue, a simulated exchange); ValueError unless it
    is 1-32 lowercase letters, digits and single '-', starting with a letter."""
    if len(name) > 32 or _VENUE_NAME.fullmatch(name) is None:
        raise ValueError(
            "a venue name is 1-32 lowercase letters, digits and single '-', starting with "
            f"a letter (e.g. 'deribit-a'); got {name!r}"
        )
    return VenueId(name)


Symbol = NewType("Symbol", str)
"""ccxt unified symbol, e.g. ``"BTC/USD:BTC"`` or ``"BTC/USD:BTC-261225-60000-C"``."""

Currency = NewType("Currency", str)
"""Upper-case currency code, e.g. ``"BTC"``, ``"USD"``, ``"USDC"``."""

ClientOrderId = NewType("ClientOrderId", str)
"""Deterministic client order id (Deribit ``label``, ``clientOrderId`` elsewhere)."""
