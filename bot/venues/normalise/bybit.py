"""Bybit v5 (Unified Trading Account): inverse contracts count USD, the rest count coin.

From the Bybit v5 documentation: an inverse BTCUSD position's ``size`` is in
USD (one contract is 1 USD), linear (USDT/USDC) perps and USDC options count
the base coin, and ``size`` is unsigned with the direction in ``side``
(``Buy``/``Sell``). Option tickers carry ``markPrice`` (USDC), ``markIv`` as
a fraction (0.4229 = 42.29%), ``underlyingPrice`` and a Black-Scholes
``delta``; USDC-settled options need no premium adjustment. Only the Unified
Trading Account is supported (Bybit options require it), so ccxt is told so
instead of probing the account type with two extra private calls.

Sub-account transfers use ``asset/transfer/universal-transfer`` ("transfer
between sub-sub or main-sub"): ``fromMemberId``/``toMemberId`` are UIDs (the
master has one too), ``fromAccountType``/``toAccountType`` account types, and
the answer is ``{transferId, status}`` with status SUCCESS, PENDING, FAILED or
STATUS_UNKNOWN (the last is unreadable: Ambiguous). ccxt's unified
``transfer`` is the inter-transfer between one UID's own account types.
Transfers take ``transferId``, a UUID "unique across the platform", and refuse
a second one with code 131214 ("TransferId exist"). ccxt would draw a random
UUID per call; we send a UUID derived from our transfer id (uuid5), so the
same transfer always carries the same UUID. Withdrawals take ``requestId``,
"customised ID, globally unique, used for idempotent verification"; the
withdrawal record does not echo it, so history reports carry no transfer id.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar

from bot.domain.ids import Currency, Symbol
from bot.domain.instruments import InstrumentKind
from bot.domain.orders import TransferId, TransferKind, TransferRequest
from bot.domain.snapshot import Balance, Mark
from bot.venues.normalise.base import (
    Normaliser,
    SubaccountRoute,
    TransferCall,
    amount_text,
)
from bot.venues.normalise.common import (
    MalformedResponseError,
    MarkBatch,
    Payload,
    VenueMarket,
    info,
    mapping,
    num,
    opt_num,
    opt_positive,
    positive,
    text,
)

_TRANSFER_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "deltabot:bybit:transferId")
"""Fixed namespace of the transferId UUIDs: the same transfer id gives the same UUID forever."""
_TRANSFER_ID_EXISTS = re.compile(r'"retCode"\s*:\s*"?131214\b')
"""Bybit's "TransferId exist" (ccxt maps it to BadRequest, which would read as Rejected)."""
_UNIVERSAL_STATUS = MappingProxyType({"SUCCESS": "ok", "PENDING": "pending", "FAILED": "failed"})
"""universal-transfer ``status`` as ccxt status words (ccxt itself maps SUCCESS only)."""


def _group(vm: VenueMarket) -> tuple[tuple[str, str], ...]:
    """ccxt params that select this market's ticker category on Bybit."""
    if vm.instrument.kind is InstrumentKind.OPTION:
        return (("type", "option"), ("baseCoin", vm.instrument.underlying))
    return (("type", "swap"), ("subType", "inverse" if vm.instrument.is_inverse else "linear"))


class BybitNormaliser(Normaliser):
    exchange: ClassVar[str] = "bybit"
    duplicate_order_error: ClassVar[re.Pattern[str] | None] = re.compile(
        r'"retCode"\s*:\s*"?110072\b'
    )
    """Bybit 110072 "OrderLinkedID is duplicate"."""
    ccxt_options: ClassVar[Mapping[str, Any]] = MappingProxyType(
        {
            "fetchMarkets": {"types": ["linear", "inverse", "option"], "options": ["BTC", "ETH"]},
            "fetchOrder": {"acknowledged": True},  # IOC hedges are among the last 500 orders
            "enableUnifiedMargin": False,
            "enableUnifiedAccount": True,
            "unifiedMarginStatus": 6,
        }
    )
    position_queries: ClassVar[tuple[Mapping[str, Any], ...]] = (
        {"type": "option"},
        {"type": "swap", "subType": "linear", "settleCoin": "USDT"},
        {"type": "swap", "subType": "linear", "settleCoin": "USDC"},
        {"type": "swap", "subType": "inverse"},
    )
    raw_client_id_keys: ClassVar[tuple[str, ...]] = ("orderLinkId",)
    transfer_id_params: ClassVar[Mapping[TransferKind, str]] = MappingProxyType(
        {TransferKind.SUBACCOUNT: "transferId", TransferKind.WITHDRAWAL: "requestId"}
    )
    transfer_id_echoes: ClassVar[Mapping[TransferKind, str]] = MappingProxyType(
        {TransferKind.SUBACCOUNT: "transferId"}
    )

    def wire_transfer_id(self, kind: TransferKind, transfer_id: TransferId) -> str | None:
        """A transfer's UUID (uuid5 of our id, any text works); a withdrawal's id as is."""
        if kind is TransferKind.SUBACCOUNT:
            return str(uuid.uuid5(_TRANSFER_NAMESPACE, transfer_id))
        return super().wire_transfer_id(kind, transfer_id)

    def duplicate_transfer(self, exc: BaseException) -> bool:
        return _TRANSFER_ID_EXISTS.search(str(exc)) is not None

    subaccount_wallet_default: ClassVar[str | None] = "UNIFIED"  # the only account we trade

    def subaccount_transfer_call(
        self, request: TransferRequest, route: SubaccountRoute, id_params: Mapping[str, Any]
    ) -> TransferCall:
        source, destination = route.venue_ids(self.exchange, master_has_one=True)
        uids = [uid for uid in (source, destination) if uid is not None and uid.isdigit()]
        if len(uids) != 2:
            raise ValueError(f"bybit member UIDs are digits, got {source!r} and {destination!r}")
        wallet = route.wallet or self.subaccount_wallet_default
        body = {
            "coin": request.currency,
            "amount": amount_text(request.amount),
            "fromMemberId": int(uids[0]),  # documented as integers
            "toMemberId": int(uids[1]),
            "fromAccountType": wallet,
            "toAccountType": wallet,
        }
        return TransferCall("privatePostV5AssetTransferUniversalTransfer", body | dict(id_params))

    def subaccount_transfer_answer(self, client: Any, answer: Any) -> Payload:
        """``result`` parsed by ccxt, its status mapped, stamped with the answer's ``time``."""
        raw = mapping(answer, "bybit transfer")
        result = mapping(raw.get("result"), "bybit transfer result")
        tx = dict(client.parse_transfer(result))
        status = result.get("status")
        if status is None:  # an answer as the older docs show it: retCode 0 is success
            tx["status"] = "ok" if str(raw.get("retCode")) == "0" else None
        elif isinstance(status, str) and status in _UNIVERSAL_STATUS:
            tx["status"] = _UNIVERSAL_STATUS[status]
        stamp = raw.get("time")
        if tx.get("timestamp") is None and isinstance(stamp, int):
            tx["timestamp"] = stamp
        return tx

    def position_size(self, vm: VenueMarket, position: Payload) -> float:
        where = f"bybit position {vm.symbol}"
        raw = info(position, where)
        size = num(raw, "size", where)
        side = raw.get("side")
        if size < 0:
            raise MalformedResponseError(f"{where}: size is unsigned on Bybit, got {size}")
        if side == "Buy":
            return size
        if side == "Sell":
            return -size
        if size == 0 and side in ("", "None", None):
            return 0.0
        raise MalformedResponseError(f"{where}: unknown side {side!r} for size {size}")

    def balances(self, balance: Payload, account: str) -> list[Balance]:
        """Per-coin lines of ``account/wallet-balance``.

        Initial margin is position plus order margin. Bybit leaves the per-coin
        margin fields empty in portfolio margin mode; that reads as 0.
        """
        raw = info(balance, "bybit balance")
        result = mapping(raw.get("result"), "bybit balance result")
        accounts = result.get("list")
        if not isinstance(accounts, list) or not accounts:
            raise MalformedResponseError("bybit balance: result.list must be a non-empty list")
        coins = mapping(accounts[0], "bybit balance list[0]").get("coin")
        if not isinstance(coins, list):
            raise MalformedResponseError("bybit balance: list[0].coin must be a list")
        out = []
        for i, item in enumerate(coins):
            where = f"bybit balance coin[{i}]"
            entry = mapping(item, where)
            equity = num(entry, "equity", where)
            im = (opt_num(entry, "totalPositionIM", where) or 0.0) + (
                opt_num(entry, "totalOrderIM", where) or 0.0
            )
            available = opt_num(entry, "availableToWithdraw", where)
            out.append(
                Balance(
                    currency=Currency(text(entry, "coin", where)),
                    equity=equity,
                    available=available if available is not None else equity - im,
                    initial_margin=im,
                    maintenance_margin=opt_num(entry, "totalPositionMM", where) or 0.0,
                    account=account,
                )
            )
        return out

    def mark(self, vm: VenueMarket, ticker: Payload, ts_ms: int) -> Mark:
        """Mark from one ``market/tickers`` entry, read at ``ts_ms``."""
        where = f"bybit ticker {vm.symbol}"
        mark_price = positive(ticker, "markPrice", where)
        is_option = vm.instrument.is_option
        return Mark(
            symbol=vm.symbol,
            mark_price=mark_price,
            underlying_usd=positive(ticker, "underlyingPrice", where) if is_option else mark_price,
            ts_ms=ts_ms,
            mark_iv=positive(ticker, "markIv", where) if is_option else None,
            venue_delta=num(ticker, "delta", where) if is_option else None,
            bid=opt_positive(ticker, "bid1Price", where),
            ask=opt_positive(ticker, "ask1Price", where),
            funding_rate=opt_num(ticker, "fundingRate", where)
            if vm.instrument.kind is InstrumentKind.PERPETUAL
            else None,
        )

    async def fetch_marks(
        self, client: Any, markets: Sequence[VenueMarket], now_ms: int
    ) -> MarkBatch:
        """One ``market/tickers`` call per category (options: per base coin)."""
        groups: dict[tuple[tuple[str, str], ...], dict[str, VenueMarket]] = {}
        for vm in markets:
            groups.setdefault(_group(vm), {})[vm.market_id] = vm
        marks: dict[Symbol, Mark] = {}
        index: dict[Currency, float] = {}
        index_ts: dict[Currency, int] = {}
        for params, wanted in sorted(groups.items()):
            tickers = await client.fetch_tickers(None, dict(params))
            for value in mapping(tickers, "bybit tickers").values():
                ticker = mapping(value, "bybit ticker")
                raw = info(ticker, "bybit ticker")
                found = wanted.get(str(raw.get("symbol")))
                if found is None:
                    continue
                vm = found
                # ccxt drops the response's ``time``; a ticker's own time is the read time.
                stamp = ticker.get("timestamp")
                mark = self.mark(vm, raw, stamp if isinstance(stamp, int) else now_ms)
                marks[vm.symbol] = mark
                idx = opt_positive(raw, "indexPrice", f"bybit ticker {vm.symbol}")
                if idx is not None:
                    index[vm.instrument.underlying] = idx
                    index_ts[vm.instrument.underlying] = mark.ts_ms
        return MarkBatch(marks, index, index_ts)
