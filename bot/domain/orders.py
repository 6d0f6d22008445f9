"""Orders, fills and collateral transfers as frozen values, with their life cycles.

The journal writes an order before it is sent (docs/architecture.md §5), so its
identity must be known in advance: :func:`client_order_id` derives it from the
cycle and the intent, and the same inputs always give the same id. A send ends
in exactly one :data:`SendOutcome`; a timeout is :class:`Ambiguous`, never
:class:`Rejected`, and only venue evidence moves an order out of ``UNKNOWN``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final, NewType

from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId

CLIENT_ID_PREFIX: Final = "db"
CLIENT_ID_LENGTH: Final = 32
"""Fits every venue: OKX ``clOrdId`` (alphanumeric, at most 32), Bybit ``orderLinkId``
and Binance ``clientOrderId`` (36), Deribit ``label`` (64)."""

TransferId = NewType("TransferId", str)
"""Idempotency id of a transfer or withdrawal, chosen by the bot before sending."""


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: the sign of the position change."""
        return 1 if self is Side.BUY else -1


class TimeInForce(StrEnum):
    """IOC is the default: a REST poller has no cancel-on-disconnect (docs/architecture.md §5)."""

    IOC = "IOC"
    GTC = "GTC"
    FOK = "FOK"


def _positive(owner: str, name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{owner}: {name} must be a positive finite number, got {value!r}")


def _non_negative(owner: str, name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{owner}: {name} must be a finite number >= 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One order as the executor asks for it.

    ``amount`` is in the instrument's ``amount_unit`` (USD for a Deribit
    inverse perp, coin for an option) and already rounded to its lot;
    ``limit_price`` is in its ``price_currency`` (coin for a Deribit option),
    or None for a market-style order. ``limit_iv`` (an option's limit as an implied
    vol, a fraction) is what a venue that takes implied-vol orders (Deribit's
    ``advanced="implv"``) is sent instead; ``limit_price`` then holds the same limit
    in price, for the gate, the journal and every other venue.
    """

    client_id: ClientOrderId
    venue: VenueId
    symbol: Symbol
    side: Side
    amount: float
    limit_price: float | None = None
    tif: TimeInForce = TimeInForce.IOC
    post_only: bool = False
    reduce_only: bool = False
    limit_iv: float | None = None

    def __post_init__(self) -> None:
        owner = f"order {self.client_id} on {self.symbol}"
        if self.limit_iv is not None:
            _positive(owner, "limit_iv", self.limit_iv)
            if self.limit_price is None:
                raise ValueError(f"{owner}: limit_iv needs the same limit as limit_price")
        if not self.client_id:
            raise ValueError(f"order on {self.symbol}: client_id must not be empty")
        _positive(owner, "amount", self.amount)
        if self.limit_price is not None:
            _positive(owner, "limit_price", self.limit_price)
        if self.post_only and (self.tif is not TimeInForce.GTC or self.limit_price is None):
            raise ValueError(f"{owner}: post_only needs a GTC limit order")


class OrderState(StrEnum):
    """Journal states of an order (docs/architecture.md §5)."""

    PENDING = "pending"
    """Journaled, not yet handed to the network."""
    SUBMITTED = "submitted"
    """Handed to the network, no answer yet."""
    UNKNOWN = "unknown"
    """The send's outcome is unknown (timeout, lost answer, crash mid-send)."""
    ACCEPTED = "accepted"
    PARTIAL = "partial"
    FILLED = "filled"
    CANCELED = "canceled"
    """Closed with ``filled_amount`` < amount (an IOC remainder is canceled)."""
    REJECTED = "rejected"
    NOT_FOUND = "not_found"
    """A lookup by client id found nothing yet; late evidence may still move it."""
    ABANDONED = "abandoned"
    """An operator or the reconciler gave up on it; no further evidence is applied."""

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES: Final = frozenset(
    {OrderState.FILLED, OrderState.CANCELED, OrderState.REJECTED, OrderState.ABANDONED}
)

_S = OrderState
_VENUE_EVIDENCE: Final = frozenset({_S.ACCEPTED, _S.PARTIAL, _S.FILLED, _S.CANCELED, _S.REJECTED})
ALLOWED_TRANSITIONS: Final = MappingProxyType(
    {
        # A crash after journaling leaves PENDING whose send may have happened: UNKNOWN.
        _S.PENDING: frozenset({_S.SUBMITTED, _S.UNKNOWN, _S.REJECTED, _S.ABANDONED}),
        _S.SUBMITTED: _VENUE_EVIDENCE | {_S.UNKNOWN},
        _S.UNKNOWN: _VENUE_EVIDENCE | {_S.NOT_FOUND, _S.ABANDONED},
        _S.NOT_FOUND: _VENUE_EVIDENCE | {_S.ABANDONED},
        _S.ACCEPTED: frozenset({_S.PARTIAL, _S.FILLED, _S.CANCELED}),
        _S.PARTIAL: frozenset({_S.FILLED, _S.CANCELED}),
        _S.FILLED: frozenset(),
        _S.CANCELED: frozenset(),
        _S.REJECTED: frozenset(),
        _S.ABANDONED: frozenset(),
    }
)
"""Which state may follow which. Re-reporting the current state is always allowed."""


def can_transition(current: OrderState, new: OrderState) -> bool:
    """Whether ``new`` may follow ``current``; a repeat of the same state is a no-op."""
    return new is current or new in ALLOWED_TRANSITIONS[current]


def check_transition(current: OrderState, new: OrderState) -> OrderState:
    """``new`` if it may follow ``current``, else ValueError naming both."""
    if not can_transition(current, new):
        allowed = ", ".join(sorted(s.value for s in ALLOWED_TRANSITIONS[current])) or "none"
        raise ValueError(
            f"order state {current.value} cannot become {new.value} (allowed: {allowed})"
        )
    return new


@dataclass(frozen=True, slots=True)
class OrderReport:
    """What the venue says about one order, in domain units.

    ``filled_amount`` is in the instrument's ``amount_unit``; ``average_price``
    in its ``price_currency`` (None before the first fill).
    """

    client_id: ClientOrderId | None
    venue_order_id: str
    symbol: Symbol
    state: OrderState
    filled_amount: float
    average_price: float | None
    ts_ms: int

    def __post_init__(self) -> None:
        owner = f"order report {self.venue_order_id}"
        if not self.venue_order_id:
            raise ValueError(f"order report on {self.symbol}: venue_order_id must not be empty")
        _non_negative(owner, "filled_amount", self.filled_amount)
        if self.average_price is not None:
            _positive(owner, "average_price", self.average_price)
        if self.state is OrderState.FILLED and self.filled_amount == 0:
            raise ValueError(f"{owner}: a filled order must have a filled amount")


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. ``amount`` in the instrument's amount unit, ``price`` in its price
    currency, ``fee`` in ``fee_currency`` (negative for a maker rebate)."""

    trade_id: str
    client_id: ClientOrderId | None
    venue_order_id: str
    symbol: Symbol
    side: Side
    amount: float
    price: float
    fee: float
    fee_currency: Currency
    ts_ms: int

    def __post_init__(self) -> None:
        owner = f"fill {self.trade_id}"
        if not self.trade_id:
            raise ValueError(f"fill on {self.symbol}: trade_id must not be empty")
        _positive(owner, "amount", self.amount)
        _positive(owner, "price", self.price)
        if not math.isfinite(self.fee):
            raise ValueError(f"{owner}: fee must be finite, got {self.fee!r}")


@dataclass(frozen=True, slots=True)
class Accepted:
    """The venue has the order; ``fills`` are those it returned with the answer."""

    report: OrderReport
    fills: tuple[Fill, ...] = ()

    @property
    def reason(self) -> str:
        return f"accepted as {self.report.venue_order_id} ({self.report.state.value})"


@dataclass(frozen=True, slots=True)
class Rejected:
    """Definitely not live: the venue refused it, or it never left the process."""

    reason: str


@dataclass(frozen=True, slots=True)
class Ambiguous:
    """Unknown whether it is live: look it up by client id, never resend."""

    reason: str


SendOutcome = Accepted | Rejected | Ambiguous


def report_from_fills(fills: Sequence[Fill]) -> OrderReport:
    """What the fills of one order prove about it, when the order itself cannot be read.

    PARTIAL with the traded amount: some of it filled, and the venue has not
    said how it ended. Fills of 0.3 at 0.0695 and 0.2 at 0.0700 are 0.5 at an
    average 0.0697.
    """
    if not fills:
        raise ValueError("report_from_fills: no fills")
    orders = {(f.client_id, f.venue_order_id, f.symbol) for f in fills}
    if len(orders) != 1:
        raise ValueError(f"report_from_fills: fills of {len(orders)} different orders")
    ((client_id, venue_order_id, symbol),) = orders
    filled = sum(f.amount for f in fills)
    return OrderReport(
        client_id=client_id,
        venue_order_id=venue_order_id,
        symbol=symbol,
        state=OrderState.PARTIAL,
        filled_amount=filled,
        average_price=sum(f.amount * f.price for f in fills) / filled,
        ts_ms=max(f.ts_ms for f in fills),
    )


class TransferKind(StrEnum):
    SUBACCOUNT = "subaccount"
    WITHDRAWAL = "withdrawal"
    DEPOSIT = "deposit"


class TransferState(StrEnum):
    PENDING = "pending"
    """Journaled, not yet sent."""
    SUBMITTED = "submitted"
    UNKNOWN = "unknown"
    PROCESSING = "processing"
    """The venue has it and has not finished (e.g. waiting for confirmations)."""
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """Move ``amount`` of ``currency`` to a sub-account or withdraw it to an address.

    ``destination`` is the sub-account as the venue names it, or the address;
    ``network`` is the chain of a withdrawal (None: the venue default).
    """

    transfer_id: TransferId
    venue: VenueId
    kind: TransferKind
    currency: Currency
    amount: float
    destination: str
    network: str | None = None

    def __post_init__(self) -> None:
        owner = f"transfer {self.transfer_id}"
        if not self.transfer_id:
            raise ValueError("transfer: transfer_id must not be empty")
        if self.kind is TransferKind.DEPOSIT:
            raise ValueError(f"{owner}: deposits arrive, they cannot be requested")
        _positive(owner, "amount", self.amount)
        if not self.destination:
            raise ValueError(f"{owner}: destination must not be empty")


@dataclass(frozen=True, slots=True)
class TransferReport:
    """What the venue says about one transfer, withdrawal or deposit."""

    transfer_id: TransferId | None
    venue_transfer_id: str | None
    kind: TransferKind
    state: TransferState
    currency: Currency
    amount: float
    fee: float | None
    ts_ms: int

    def __post_init__(self) -> None:
        _non_negative(f"transfer report {self.venue_transfer_id}", "amount", self.amount)


@dataclass(frozen=True, slots=True)
class DepositAddress:
    currency: Currency
    address: str
    network: str | None = None
    tag: str | None = None


TransferOutcome = TransferReport | Rejected | Ambiguous


def client_order_id(
    cycle_id: str, venue: VenueId, symbol: Symbol, intent_seq: int
) -> ClientOrderId:
    """Deterministic client id of the ``intent_seq``-th intent of a cycle on one symbol.

    A restart re-derives the same id for the same intent, so a venue lookup by
    id finds an order sent before a crash. The id is ``db`` + 30 hex digits of
    a BLAKE2b hash: alphanumeric, starting with a letter, 32 characters.
    """
    if not cycle_id:
        raise ValueError("client_order_id: cycle_id must not be empty")
    if intent_seq < 0:
        raise ValueError(f"client_order_id: intent_seq must be >= 0, got {intent_seq}")
    key = json.dumps([cycle_id, venue, symbol, intent_seq]).encode()  # unambiguous split
    digest = hashlib.blake2b(key, digest_size=(CLIENT_ID_LENGTH - len(CLIENT_ID_PREFIX)) // 2)
    return ClientOrderId(CLIENT_ID_PREFIX + digest.hexdigest())
