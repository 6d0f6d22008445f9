"""The venue protocol: everything the engine may ask of an exchange account.

Reads return frozen domain values in the venue's own units (docs/architecture.md §3)
and raise on failure: an unreadable position is unknown, never flat. Writes
never raise for venue trouble; they return Accepted, Rejected or Ambiguous
(see :mod:`bot.venues.errors`) so the journal can record exactly what is known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId
from bot.domain.instruments import Instrument
from bot.domain.orders import (
    DepositAddress,
    Fill,
    OrderReport,
    OrderRequest,
    SendOutcome,
    TransferOutcome,
    TransferReport,
    TransferRequest,
)
from bot.domain.pnl import FundingPayment
from bot.domain.snapshot import Balance, Mark, Position, VenueSnapshot


class StartupError(RuntimeError):
    """The venue set-up is unsafe or incomplete; the message says what to fix."""


class Venue(Protocol):
    """One exchange account, as seen by the engine. Implementations: ccxt and paper."""

    @property
    def venue_id(self) -> VenueId: ...

    async def load_instruments(self, reload: bool = False) -> Mapping[Symbol, Instrument]:
        """Tradable derivatives of the account's exchange (cached; ``reload`` refreshes)."""
        ...

    async def fetch_positions(self) -> tuple[Position, ...]:
        """Open (non-zero) positions, signed, in each instrument's amount unit."""
        ...

    async def fetch_balances(self) -> tuple[Balance, ...]:
        """Equity, margin and availability per currency of this (sub-)account."""
        ...

    async def fetch_marks(self, symbols: Iterable[Symbol]) -> Mapping[Symbol, Mark]:
        """Marks of every symbol asked for; raises if the venue returned none for one."""
        ...

    async def fetch_option_chain(self, underlying: Currency) -> Mapping[Symbol, Mark]:
        """Marks of the live options on ``underlying`` that the venue currently quotes."""
        ...

    async def snapshot(self, watch: Iterable[Symbol] = ()) -> VenueSnapshot:
        """Positions, balances and the marks of held plus ``watch`` instruments."""
        ...

    async def create_order(self, request: OrderRequest) -> SendOutcome:
        """Send once. Never resends; a lost answer is Ambiguous."""
        ...

    async def cancel_order(self, venue_order_id: str, symbol: Symbol) -> SendOutcome: ...

    async def find_order(self, client_id: ClientOrderId, symbol: Symbol) -> OrderReport | None:
        """The order with this client id among open orders, closed orders and trades.

        ``symbol`` scopes the search: OKX, Bybit and Binance list orders per
        instrument, and the journal always knows it.
        """
        ...

    async def fetch_fills(self, since_ms: int, symbols: Sequence[Symbol]) -> tuple[Fill, ...]:
        """Our executions on ``symbols`` at or after ``since_ms``."""
        ...

    async def fetch_funding(self, since_ms: int) -> tuple[FundingPayment, ...]:
        """Funding payments on our perpetuals at or after ``since_ms``, as the venue reports
        them (none where the venue reports none as payments)."""
        ...

    async def fetch_delivery_prices(self, underlying: Currency) -> Mapping[str, float]:
        """The venue's latest delivery prices of ``underlying``: UTC day (``YYYY-MM-DD``) of
        each passed expiry to the price options and futures settled at, USD per coin (empty
        where the venue publishes none). Public data: no credentials needed."""
        ...

    async def transfer_to_subaccount(self, request: TransferRequest) -> TransferOutcome: ...

    async def withdraw(self, request: TransferRequest) -> TransferOutcome: ...

    async def deposit_address(self, currency: Currency) -> DepositAddress: ...

    async def deposit_status(
        self, currency: Currency, since_ms: int
    ) -> tuple[TransferReport, ...]: ...

    async def withdrawal_status(
        self, currency: Currency, since_ms: int
    ) -> tuple[TransferReport, ...]: ...

    async def close(self) -> None:
        """Release connections; the venue is unusable afterwards."""
        ...
