"""What every exchange normaliser shares: ccxt's unified shapes into domain values.

ccxt unifies names, not units. Each subclass supplies the unit facts of its
exchange (contract values, which raw field holds a signed size, which
endpoints carry marks and Greeks) and inherits the rest: instrument
assembly, order and fill mapping, client-id lookup.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any, ClassVar, Final

from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId
from bot.domain.instruments import (
    AmountUnit,
    Instrument,
    InstrumentKind,
    OptionType,
    Settlement,
)
from bot.domain.orders import (
    Fill,
    OrderReport,
    OrderRequest,
    OrderState,
    Side,
    TransferId,
    TransferKind,
    TransferReport,
    TransferRequest,
    TransferState,
)
from bot.domain.pnl import FundingPayment
from bot.domain.rounding import LotRounding, round_amount, round_price
from bot.domain.snapshot import Balance, Position
from bot.venues.normalise.common import (
    MalformedResponseError,
    MarkBatch,
    Payload,
    VenueDelta,
    VenueMarket,
    mapping,
    num,
    opt_num,
    opt_positive,
    opt_text,
    positive,
    text,
)

_KINDS: Mapping[str, InstrumentKind] = MappingProxyType(
    {
        "option": InstrumentKind.OPTION,
        "future": InstrumentKind.FUTURE,
        "swap": InstrumentKind.PERPETUAL,
    }
)
_ORDER_STATUS: Mapping[str, OrderState] = MappingProxyType(
    {
        "closed": OrderState.FILLED,
        "canceled": OrderState.CANCELED,
        "expired": OrderState.CANCELED,  # an unfilled IOC remainder (Binance, OKX)
        "rejected": OrderState.REJECTED,
    }
)
_TRANSFER_STATUS: Mapping[str, TransferState] = MappingProxyType(
    {
        "pending": TransferState.PROCESSING,
        "ok": TransferState.COMPLETED,
        "failed": TransferState.FAILED,
        "canceled": TransferState.CANCELED,
    }
)
_WIRE_TRANSFER_ID = re.compile(r"[A-Za-z0-9]{1,32}")
"""OKX's ``clientId`` rule, which Bybit ``requestId`` and Binance ``withdrawOrderId`` accept."""
_ON_GRID = 1e-9
"""Relative difference that still counts as the same amount or price (float noise)."""
MASTER_ACCOUNT = "main"
"""The label of an exchange's master account, in ``account`` and in transfer destinations."""


def amount_text(amount: float) -> str:
    """``amount`` as a plain decimal string (0.25 -> "0.25", 100.0 -> "100", no exponent).

    Implicit-API calls take the amount as text; it is sent as given, never
    rounded to a currency precision, so the venue moves what was journaled or refuses.
    """
    return format(Decimal(repr(amount)).normalize(), "f")


@dataclass(frozen=True, slots=True)
class SubaccountRoute:
    """The two ends of a sub-account transfer as labels, and what the config says of them.

    ``identifiers`` maps a label to the exchange's identifier of that account
    (OKX name, Bybit UID, Binance email); ``wallet`` is the configured account
    type moved from and to (None: the exchange's default).
    """

    source: str
    destination: str
    identifiers: Mapping[str, str]
    wallet: str | None

    def venue_ids(self, exchange: str, *, master_has_one: bool) -> tuple[str | None, str | None]:
        """(source, destination) identifiers, None for the master where it needs none.

        ValueError (the transfer is not sent) when both ends are one account or a
        label has no identifier: a guessed or empty one could move money elsewhere.
        """
        if self.source == self.destination:
            raise ValueError(f"source and destination are both {self.source!r}")
        ends = (self.source, self.destination)
        missing = [
            label
            for label in ends
            if label not in self.identifiers and (master_has_one or label != MASTER_ACCOUNT)
        ]
        if missing:
            raise ValueError(
                f"{exchange} needs the identifier of sub-account "
                f"{' and '.join(repr(m) for m in missing)}: add it to the venue's subaccounts"
            )
        source, destination = (
            None if label == MASTER_ACCOUNT and not master_has_one else self.identifiers[label]
            for label in ends
        )
        return source, destination


@dataclass(frozen=True, slots=True)
class TransferCall:
    """One ccxt implicit-API call (method name and request body) that moves money."""

    method: str
    params: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class OrderArgs:
    """Arguments of one ccxt ``create_order`` call, in ccxt's (wire) units."""

    symbol: str
    type: str
    side: str
    amount: float
    price: float | None
    params: Mapping[str, Any]


def off_grid(request: OrderRequest, instrument: Instrument) -> str | None:
    """Why ``request`` is not on the instrument's lot and tick grid, or None if it is.

    Checked with :mod:`bot.domain.rounding` (the one place that rounds): an
    order the executor rounded comes back unchanged. ccxt would silently
    truncate an off-lot amount, sending less than the journal recorded.
    """
    lots = round_amount(instrument, request.amount, LotRounding.NEAREST)
    if not math.isclose(lots, request.amount, rel_tol=_ON_GRID):
        return (
            f"{request.symbol}: amount {request.amount} is not a whole number of "
            f"{instrument.lot_size} {instrument.amount_unit.value} lots of at least "
            f"{instrument.min_size}"
        )
    price = request.limit_price
    if price is not None and not math.isclose(
        round_price(instrument, price, request.side), price, rel_tol=_ON_GRID
    ):
        return f"{request.symbol}: limit price {price} is off the tick {instrument.tick_size}"
    return None


_IV_PCT_DECIMALS: Final = 2
"""An implied-vol limit is sent in percent to 0.01 (one hundredth of a vol point)."""


class Normaliser(ABC):
    """Base class: one subclass per exchange, stateless, safe to share."""

    exchange: ClassVar[str] = ""
    implied_vol_orders: ClassVar[bool] = False
    """Whether the venue takes an option's limit as an implied vol in percent (Deribit's
    ``advanced="implv"``); elsewhere an order's ``limit_iv`` is sent as its ``limit_price``."""
    ccxt_options: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    """Extra ccxt ``options`` (which market types to load, account mode, ...)."""
    position_queries: ClassVar[tuple[Mapping[str, Any], ...]] = ({},)
    """``params`` of each ``fetch_positions`` call that together cover the account."""
    client_id_param: ClassVar[str] = "clientOrderId"
    """The ccxt ``create_order`` param that carries our client id."""
    raw_client_id_keys: ClassVar[tuple[str, ...]] = ()
    """Raw (``info``) fields holding the client id where ccxt does not unify it."""
    transfer_id_params: ClassVar[Mapping[TransferKind, str]] = MappingProxyType({})
    """The ccxt param that carries our transfer id to the venue, per kind (absent: none)."""
    transfer_id_echoes: ClassVar[Mapping[TransferKind, str]] = MappingProxyType({})
    """The raw (``info``) field in which the venue echoes that id back, per kind."""
    subaccount_wallet_default: ClassVar[str | None] = None
    """Account type a sub-account transfer moves from and to unless configured (None: none)."""
    fills_in_order_answer: ClassVar[bool] = True
    """Whether an order's answer carries its trades (False: read them by order id)."""
    direct_order_lookup: ClassVar[bool] = False
    """Whether the venue finds an order by client id in one call (:meth:`order_by_client_id`)."""
    fetch_currencies: ClassVar[bool] = False
    """Whether ccxt loads the venue's currency list with its markets. Off by default (one
    round trip, on some venues a private call): ccxt then knows the currencies the markets
    name, which is enough unless collateral moves in one no listed contract names."""

    def configure_client(self, client: Any) -> None:
        """Adjust a freshly built ccxt client to this exchange (default: nothing to do)."""
        return

    async def order_by_client_id(
        self, client: Any, vm: VenueMarket, client_id: ClientOrderId
    ) -> Payload | None:
        """The venue's order carrying ``client_id`` (None: it has none); only where
        :attr:`direct_order_lookup` says the venue can."""
        raise NotImplementedError(f"{self.exchange} has no order lookup by client id")

    # --- instruments -----------------------------------------------------------------

    def contract_value(self, market: Payload, where: str) -> float:
        """Domain amount per ccxt amount unit; 1 unless the exchange counts contracts."""
        return 1.0

    def venue_market(self, venue: VenueId, market: Payload) -> VenueMarket | None:
        """The instrument of one ccxt market, or None for spot and combo markets."""
        where = f"{self.exchange} market {market.get('id')!r}"
        kind = _KINDS.get(str(market.get("type")))
        inverse, linear = market.get("inverse"), market.get("linear")
        if kind is None or (inverse is None and linear is None):
            return None
        cv = self.contract_value(market, where)
        precision = mapping(market.get("precision"), f"{where}.precision")
        amount_limits = mapping(
            mapping(market.get("limits"), f"{where}.limits").get("amount"), f"{where}.limits"
        )
        wire_lot = positive(precision, "amount", where)
        wire_min = opt_positive(amount_limits, "min", where) or wire_lot
        settle = Currency(text(market, "settle", where))
        is_option = kind is InstrumentKind.OPTION
        option_type = None
        if is_option:
            raw_type = text(market, "optionType", where)
            if raw_type not in ("call", "put"):
                raise MalformedResponseError(
                    f"{where}: optionType must be call or put, not {raw_type!r}"
                )
            option_type = OptionType(raw_type)
        instrument = Instrument(
            venue=venue,
            symbol=Symbol(text(market, "symbol", where)),
            underlying=Currency(text(market, "base", where)),
            quote=Currency(text(market, "quote", where)),
            settle=settle,
            kind=kind,
            settlement=Settlement.INVERSE if inverse else Settlement.LINEAR,
            amount_unit=AmountUnit.USD if inverse and not is_option else AmountUnit.COIN,
            # Option premiums are paid in the settlement coin (BTC on Deribit and OKX).
            price_currency=settle if is_option else Currency(text(market, "quote", where)),
            tick_size=positive(precision, "price", where),
            lot_size=wire_lot * cv,
            min_size=wire_min * cv,
            expiry_ms=int(num(market, "expiry", where))
            if kind is not InstrumentKind.PERPETUAL
            else None,
            strike_usd=positive(market, "strike", where) if is_option else None,
            option_type=option_type,
        )
        info = mapping(market.get("info"), f"{where}.info")
        return VenueMarket(instrument, text(market, "id", where), cv, wire_lot, info)

    # --- positions and balances (exchange-specific) -----------------------------------

    @abstractmethod
    def position_size(self, vm: VenueMarket, position: Payload) -> float:
        """Signed size in the instrument's amount unit (long > 0)."""

    def position(self, vm: VenueMarket, position: Payload) -> Position:
        where = f"{self.exchange} position {vm.symbol}"
        return Position(
            vm.instrument,
            self.position_size(vm, position),
            opt_positive(position, "entryPrice", where),
        )

    @abstractmethod
    def balances(self, balance: Payload, account: str) -> list[Balance]:
        """Balances of one ccxt ``fetch_balance`` answer (read from its raw ``info``)."""

    async def fetch_position_payloads(self, client: Any) -> list[Payload]:
        """ccxt position structures of the whole account (one call per query)."""
        out: list[Payload] = []
        for query in self.position_queries:
            answer = await client.fetch_positions(None, dict(query))
            if not isinstance(answer, list):
                raise MalformedResponseError(f"{self.exchange} positions: expected a list")
            out.extend(mapping(p, f"{self.exchange} position") for p in answer)
        return out

    async def fetch_funding(
        self, client: Any, venue: VenueId, since_ms: int
    ) -> tuple[FundingPayment, ...]:
        """Funding payments at or after ``since_ms`` as the venue reports them; none by
        default (Deribit books funding into the position continuously, with no payment of
        its own to read)."""
        return ()

    async def fetch_delivery_prices(self, client: Any, underlying: Currency) -> dict[str, float]:
        """The latest delivery prices of ``underlying`` by UTC day; none by default (a venue
        whose options settle at a published delivery price says where it publishes them)."""
        return {}

    async def fetch_balances(self, client: Any, account: str) -> list[Balance]:
        answer = await client.fetch_balance()
        return self.balances(mapping(answer, f"{self.exchange} balance"), account)

    # --- marks (exchange-specific: which endpoints carry them) ------------------------

    @abstractmethod
    async def fetch_marks(
        self, client: Any, markets: Sequence[VenueMarket], now_ms: int
    ) -> MarkBatch:
        """Marks of ``markets`` in as few calls as the exchange allows.

        Markets the venue returned nothing for are left out; the adapter
        reports them. ``now_ms`` (the venue's clock, as last measured) stamps
        quotes that carry no time of their own.
        """

    async def fetch_snapshot_marks(
        self, client: Any, markets: Sequence[VenueMarket], held_options: int, now_ms: int
    ) -> MarkBatch:
        """Marks of a snapshot's instruments (those held and those watched), of which
        ``held_options`` options will want the venue's delta; :meth:`fetch_marks` unless
        the venue has a cheaper way to read a few instruments."""
        return await self.fetch_marks(client, markets, now_ms)

    async def fetch_venue_deltas(
        self, client: Any, markets: Sequence[VenueMarket]
    ) -> Mapping[Symbol, VenueDelta]:
        """The venue's Black-Scholes delta per unit of held options whose marks carry none.

        Venues whose marks always carry one have nothing more to fetch.
        """
        return {}

    # --- orders and fills --------------------------------------------------------------

    def order_params(self, request: OrderRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            self.client_id_param: request.client_id,
            "timeInForce": request.tif.value,
        }
        if request.post_only:
            params["postOnly"] = True
        if request.reduce_only:
            params["reduceOnly"] = True
        return params

    def order_args(self, request: OrderRequest, vm: VenueMarket) -> OrderArgs:
        """ccxt arguments for ``request``; ValueError if it is off the lot or tick grid."""
        problem = off_grid(request, vm.instrument)
        if problem is not None:
            raise ValueError(problem)
        wire_lots = round(vm.to_wire(request.amount) / vm.wire_lot)  # exact: on the grid
        params = self.order_params(request)
        price = request.limit_price
        if request.limit_iv is not None and self.implied_vol_orders:
            price = round(100.0 * request.limit_iv, _IV_PCT_DECIMALS)
            params["advanced"] = "implv"
        return OrderArgs(
            symbol=vm.symbol,
            type="market" if request.limit_price is None else "limit",
            side=request.side.value,
            amount=wire_lots * vm.wire_lot,
            price=price,
            params=params,
        )

    def client_id_of(self, order_or_trade: Payload) -> ClientOrderId | None:
        """The client id ccxt unified, or the raw field the exchange keeps it in."""
        cid = opt_text(order_or_trade, "clientOrderId")
        raw = order_or_trade.get("info")
        if cid is None and isinstance(raw, Mapping):
            cid = next(filter(None, (opt_text(raw, k) for k in self.raw_client_id_keys)), None)
        return ClientOrderId(cid) if cid else None

    def order_report(self, vm: VenueMarket, order: Payload, now_ms: int) -> OrderReport:
        """Domain report of a ccxt order; ``now_ms`` stamps bare acknowledgements."""
        where = f"{self.exchange} order {order.get('id')!r} on {vm.symbol}"
        filled = vm.to_amount(opt_num(order, "filled", where) or 0.0)
        status = order.get("status")
        if status in (None, "open"):
            state = OrderState.PARTIAL if filled > 0 else OrderState.ACCEPTED
        elif isinstance(status, str) and status in _ORDER_STATUS:
            state = _ORDER_STATUS[status]
        else:
            raise MalformedResponseError(f"{where}: unknown order status {status!r}")
        amount = opt_num(order, "amount", where)
        if state is OrderState.FILLED and amount is not None and filled < vm.to_amount(amount):
            # ccxt calls Bybit's PartiallyFilledCanceled "closed": the rest was canceled.
            state = OrderState.CANCELED
        ts = next(
            (
                int(t)
                for t in (
                    order.get("lastUpdateTimestamp"),
                    order.get("lastTradeTimestamp"),
                    order.get("timestamp"),
                )
                if isinstance(t, int | float) and t > 0
            ),
            now_ms,
        )
        return OrderReport(
            client_id=self.client_id_of(order),
            venue_order_id=text(order, "id", where),
            symbol=vm.symbol,
            state=state,
            filled_amount=filled,
            average_price=opt_positive(order, "average", where) if filled > 0 else None,
            ts_ms=ts,
        )

    def fill(self, vm: VenueMarket, trade: Payload) -> Fill:
        where = f"{self.exchange} trade {trade.get('id')!r} on {vm.symbol}"
        side = text(trade, "side", where)
        if side not in ("buy", "sell"):
            raise MalformedResponseError(f"{where}: side must be buy or sell, not {side!r}")
        fee = mapping(trade.get("fee"), f"{where}.fee")
        return Fill(
            trade_id=text(trade, "id", where),
            client_id=self.client_id_of(trade),
            venue_order_id=text(trade, "order", where),
            symbol=vm.symbol,
            side=Side(side),
            amount=vm.to_amount(positive(trade, "amount", where)),
            price=positive(trade, "price", where),
            fee=num(fee, "cost", f"{where}.fee"),
            fee_currency=Currency(text(fee, "currency", f"{where}.fee")),
            ts_ms=int(positive(trade, "timestamp", where)),
        )

    # --- transfers ---------------------------------------------------------------------

    def wire_transfer_id(self, kind: TransferKind, transfer_id: TransferId) -> str | None:
        """The id sent for ``transfer_id``, or None where the venue takes no client id.

        Sent as is, so an echoed id maps straight back to ours; an id the venue's
        slot cannot carry is a ValueError (the transfer is not sent), never a
        silently altered id that no later lookup could match.
        """
        if kind not in self.transfer_id_params:
            return None
        if _WIRE_TRANSFER_ID.fullmatch(transfer_id) is None:
            raise ValueError(
                f"{self.exchange} takes a {kind.value} id of 1-32 letters and digits, "
                f"not {transfer_id!r}"
            )
        return transfer_id

    def transfer_params(self, request: TransferRequest) -> dict[str, Any]:
        """ccxt params carrying ``request``'s idempotency id (ValueError if it cannot)."""
        wire = self.wire_transfer_id(request.kind, request.transfer_id)
        return {} if wire is None else {self.transfer_id_params[request.kind]: wire}

    def echoed_transfer_id(self, kind: TransferKind, tx: Payload) -> str | None:
        """The client id the venue echoed in a ccxt transfer or transaction, if any."""
        key = self.transfer_id_echoes.get(kind)
        raw = tx.get("info")
        return opt_text(raw, key) if key is not None and isinstance(raw, Mapping) else None

    def transfer_id_of(self, kind: TransferKind, tx: Payload) -> TransferId | None:
        """Our transfer id, when the venue echoes one that is its own wire id."""
        echo = self.echoed_transfer_id(kind, tx)
        try:
            ours = echo is not None and self.wire_transfer_id(kind, TransferId(echo)) == echo
        except ValueError:  # not an id we could have sent
            ours = False
        return TransferId(echo) if ours and echo else None

    def subaccount_transfer_call(
        self, request: TransferRequest, route: SubaccountRoute, id_params: Mapping[str, Any]
    ) -> TransferCall | None:
        """The venue's sub-account transfer endpoint call; ValueError if it cannot be built.

        None (the default) where ccxt's unified ``transfer`` already moves money
        between sub-accounts (Deribit). Elsewhere the unified one moves it between
        account types of one user, so each exchange names its own endpoint.
        """
        return None

    def subaccount_transfer_answer(self, client: Any, answer: Any) -> Payload:
        """The ccxt transfer structure of the raw answer to :meth:`subaccount_transfer_call`."""
        raise NotImplementedError(f"{self.exchange} has no sub-account transfer endpoint")

    order_rate: ClassVar[tuple[float, float] | None] = None
    """(burst, requests per second) of the venue's separate budget for order requests, when
    it keeps one apart from reads (None: orders and reads share one budget)."""
    duplicate_order_error: ClassVar[re.Pattern[str] | None] = None
    """The venue's error text for "an order with this client id exists" (None: it has none)."""

    def duplicate_order(self, exc: BaseException) -> bool:
        """Whether ``exc`` is the venue refusing a client order id it already has.

        That refusal is evidence of a live order to look up, never a rejection to
        retry: ccxt files OKX's 51016 and Bybit's 110072 under InvalidOrder.
        """
        pattern = self.duplicate_order_error
        return pattern is not None and pattern.search(str(exc)) is not None

    refused_unprocessed_error: ClassVar[re.Pattern[str] | None] = None
    """The venue's error text for a request it documents as refused before processing (a
    rate-limit answer that never reaches the matching engine). None: treat no error so."""

    def refused_unprocessed(self, exc: BaseException) -> bool:
        """Whether ``exc`` proves the venue never processed the order: a clean reject to send
        again later, not an Ambiguous send.

        Only where the venue documents it: ccxt files every 429 as DDoSProtection, which
        may come from an edge after the origin acted, so the default is False.
        """
        pattern = self.refused_unprocessed_error
        return pattern is not None and pattern.search(str(exc)) is not None

    def duplicate_transfer(self, exc: BaseException) -> bool:
        """Whether ``exc`` is the venue refusing a transfer id it already has.

        That refusal means an earlier send may have moved the money: Ambiguous,
        never Rejected. False unless the exchange documents such an error.
        """
        return False

    def transfer_report(self, kind: TransferKind, tx: Payload, now_ms: int) -> TransferReport:
        """Domain report of a ccxt transaction or transfer structure."""
        where = f"{self.exchange} {kind.value} {tx.get('id')!r}"
        status = tx.get("status")
        if status is None:  # an acknowledgement without a status: the venue has it
            state = TransferState.PROCESSING
        elif isinstance(status, str) and status in _TRANSFER_STATUS:
            state = _TRANSFER_STATUS[status]
        else:
            raise MalformedResponseError(f"{where}: unknown transfer status {status!r}")
        fee = tx.get("fee")
        ts = tx.get("timestamp")
        return TransferReport(
            transfer_id=self.transfer_id_of(kind, tx),
            venue_transfer_id=opt_text(tx, "id"),
            kind=kind,
            state=state,
            currency=Currency(text(tx, "currency", where)),
            amount=num(tx, "amount", where),
            fee=opt_num(fee, "cost", f"{where}.fee") if isinstance(fee, Mapping) else None,
            ts_ms=int(ts) if isinstance(ts, int | float) and ts > 0 else now_ms,
        )
