"""Binance: USDT-settled options (eapi), COIN-M inverse (dapi) and USDⓈ-M linear (fapi) contracts.

From the Binance documentation: a COIN-M BTCUSD_PERP contract is worth
``contractSize`` = 100 USD (10 USD for other coins) and ``positionAmt`` is a
signed contract count, so -300 contracts are -30,000 USD. A USDⓈ-M contract
(BTCUSDT perpetual or quarterly, BTCUSDC) has no contract size: ``quantity``
and ``positionAmt`` are base coin (``LOT_SIZE.stepSize`` 0.001 BTC), prices
and margin are in the quote (USDT/USDC), so ``positionAmt`` -0.5 is -0.5 BTC.
An option contract is ``unit`` = 1 coin, priced and settled in USDT;
``markIV`` is a fraction and ``delta`` a Black-Scholes delta that needs no
premium adjustment (the premium is in USDT). The option ticker's
``exercisePrice`` is the underlying index. Binance's testnet has no options.

Options, COIN-M and USDⓈ-M are three wallets, each margined on its own, so
their balances are reported under ``<account>/options``, ``/coin-m`` and
``/usd-m``: USDT appears in two of them.

Withdrawals take ``withdrawOrderId`` (our transfer id) and the withdrawal
history echoes it. ccxt's ``transfer`` is the user universal transfer
(``sapi/v1/asset/transfer``) between one user's own wallets, so sub-account
transfers use the master's ``sapi/v1/sub-account/universalTransfer``:
``fromEmail``/``toEmail`` name the sub-accounts (left out for the master),
``fromAccountType``/``toAccountType`` the wallets, ``clientTranId`` carries our
transfer id and the answer ``{tranId, clientTranId}`` echoes it. Binance
documents the endpoint "for master account": it needs the master's key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any, ClassVar, Final

from bot.domain.ids import Currency, Symbol
from bot.domain.instruments import InstrumentKind
from bot.domain.orders import TransferKind, TransferRequest
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
    opt_ms,
    opt_num,
    opt_positive,
    positive,
    text,
)

_INVERSE: Mapping[str, str] = MappingProxyType({"type": "swap", "subType": "inverse"})
_LINEAR: Mapping[str, str] = MappingProxyType({"type": "swap", "subType": "linear"})
_OPTION: Mapping[str, str] = MappingProxyType({"type": "option"})
SINGLE_ASSET_MARGIN: Final = frozenset({"USDT", "USDC"})
"""What margins a USDⓈ-M account in single-asset mode: each contract's own margin asset."""
_BALANCE_KEYS = ("marginBalance", "availableBalance", "initialMargin", "maintMargin")
"""Equity (with unrealised P&L), available, IM, MM of a dapi/fapi ``account`` asset line."""
_UNREALISED = "unrealizedProfit"
"""The futures' unrealised P&L inside a dapi/fapi asset line's ``marginBalance``."""


def _raw_by_symbol(answer: object, what: str) -> dict[str, Payload]:
    """Raw payloads of a ccxt ``{symbol: structure}`` answer keyed by Binance symbol."""
    out = {}
    for value in mapping(answer, f"binance {what}").values():
        raw = info(mapping(value, f"binance {what}"), f"binance {what}")
        out[text(raw, "symbol", f"binance {what}")] = raw
    return out


class BinanceNormaliser(Normaliser):
    exchange: ClassVar[str] = "binance"
    ccxt_options: ClassVar[Mapping[str, Any]] = MappingProxyType(
        {"fetchMarkets": {"types": ["linear", "inverse", "option"]}}
    )
    position_queries: ClassVar[tuple[Mapping[str, Any], ...]] = (
        {"method": "option"},
        {"method": "positionRisk", **_INVERSE},
        {"method": "positionRisk", **_LINEAR},
    )
    transfer_id_params: ClassVar[Mapping[TransferKind, str]] = MappingProxyType(
        {TransferKind.SUBACCOUNT: "clientTranId", TransferKind.WITHDRAWAL: "withdrawOrderId"}
    )
    transfer_id_echoes: ClassVar[Mapping[TransferKind, str]] = transfer_id_params
    duplicate_order_error: ClassVar[re.Pattern[str] | None] = re.compile(r'"code"\s*:\s*-4116\b')
    """Binance -4116 "ClientOrderId is duplicated"."""
    refused_unprocessed_error: ClassVar[re.Pattern[str] | None] = re.compile(
        r"^binance\w* (?:418|429) "
    )
    """ccxt's text for HTTP 429 (rate limit, -1003/-1015) and 418 (IP ban). Binance's "HTTP
    Return Codes": 4XX are malformed or refused requests, the issue on the sender's side;
    only 5XX (503 "Unknown error ...") leave the execution status unknown."""
    subaccount_wallet_default: ClassVar[str | None] = "USDT_FUTURE"

    def subaccount_transfer_call(
        self, request: TransferRequest, route: SubaccountRoute, id_params: Mapping[str, Any]
    ) -> TransferCall:
        source, destination = route.venue_ids(self.exchange, master_has_one=False)
        wallet = route.wallet or self.subaccount_wallet_default
        body: dict[str, Any] = {
            "asset": request.currency,
            "amount": amount_text(request.amount),
            "fromAccountType": wallet,
            "toAccountType": wallet,
        }
        if source is not None:
            body["fromEmail"] = source
        if destination is not None:
            body["toEmail"] = destination
        return TransferCall("sapiPostSubAccountUniversalTransfer", body | dict(id_params))

    def subaccount_transfer_answer(self, client: Any, answer: Any) -> Payload:
        """``{tranId, clientTranId}``: an id is a done transfer (failures come as errors)."""
        tx = dict(client.parse_transfer(mapping(answer, "binance transfer")))
        if tx.get("status") is None:
            tx["status"] = "ok"
        return tx

    def contract_value(self, market: Payload, where: str) -> float:
        raw = info(market, where)
        if market.get("type") == "option":
            return positive(raw, "unit", where)
        if market.get("inverse"):
            return positive(raw, "contractSize", where)
        # USDⓈ-M counts base coin; a contract size here would be a product we do not know.
        size = raw.get("contractSize")
        if size not in (None, "", 1, "1"):
            raise MalformedResponseError(
                f"{where}: a USDⓈ-M contract counts base coin, not contracts of {size!r}"
            )
        return 1.0

    def position_size(self, vm: VenueMarket, position: Payload) -> float:
        where = f"binance position {vm.symbol}"
        raw = info(position, where)
        if not vm.instrument.is_option:
            return vm.to_amount(num(raw, "positionAmt", where))
        quantity = abs(num(raw, "quantity", where))
        side = raw.get("side")
        if side not in ("LONG", "SHORT"):
            raise MalformedResponseError(f"{where}: side must be LONG or SHORT, not {side!r}")
        return vm.to_amount(quantity if side == "LONG" else -quantity)

    def _lines(
        self,
        assets: object,
        where: str,
        keys: tuple[str, str, str, str],
        account: str,
        unrealised: str | None = None,
    ) -> list[Balance]:
        """Balances of an asset list; ``unrealised`` names the futures' unrealised P&L inside
        the equity, read with it (the account's wallet is equity minus it)."""
        if not isinstance(assets, list):
            raise MalformedResponseError(f"{where}: expected a list of assets")
        equity, available, im, mm = keys
        out = []
        for i, item in enumerate(assets):
            w = f"{where}[{i}]"
            entry = mapping(item, w)
            out.append(
                Balance(
                    currency=Currency(text(entry, "asset", w)),
                    equity=num(entry, equity, w),
                    available=num(entry, available, w),
                    initial_margin=num(entry, im, w),
                    maintenance_margin=num(entry, mm, w),
                    account=account,
                    unrealised_pnl=None if unrealised is None else opt_num(entry, unrealised, w),
                )
            )
        return out

    def balances(self, balance: Payload, account: str) -> list[Balance]:
        """COIN-M lines of ``dapi/v1/account`` (``marginBalance`` includes unrealised P&L)."""
        raw = info(balance, "binance COIN-M balance")
        return self._lines(
            raw.get("assets"),
            "binance COIN-M assets",
            _BALANCE_KEYS,
            f"{account}/coin-m",
            _UNREALISED,
        )

    def usd_m_balances(self, balance: Payload, account: str) -> list[Balance]:
        """USDⓈ-M lines of ``fapi/v3/account``, same fields as COIN-M, in each asset.

        In multi-assets mode the margin is shared across assets in USD; Binance
        still reports it per asset line. An asset is margin unless its line says
        ``marginAvailable: false`` or, outside multi-assets mode (``multiAssetsMargin``
        absent or false), it is no contract's margin asset: Binance's docs describe
        ``marginAvailable`` as whether the asset *can* margin in multi-assets mode, so
        in single-asset mode BTC may still read true and must not count.
        """
        raw = info(balance, "binance USD-M balance")
        assets = raw.get("assets")
        lines = self._lines(
            assets, "binance USD-M assets", _BALANCE_KEYS, f"{account}/usd-m", _UNREALISED
        )
        multi = raw.get("multiAssetsMargin") is True
        entries: list[Payload] = assets if isinstance(assets, list) else []
        return [
            replace(b, margin=_is_margin(entry, b.currency, multi))
            for b, entry in zip(lines, entries, strict=True)
        ]

    def option_balances(self, margin_account: Payload, account: str) -> list[Balance]:
        """Lines of ``eapi/v1/marginAccount`` (ccxt's fetch_balance has no options type)."""
        keys = ("equity", "available", "initialMargin", "maintMargin")
        return self._lines(
            margin_account.get("asset"), "binance option asset", keys, f"{account}/options"
        )

    async def fetch_balances(self, client: Any, account: str) -> list[Balance]:
        options = mapping(await client.eapiPrivateGetMarginAccount(), "binance marginAccount")
        coin_m = mapping(await client.fetch_balance(dict(_INVERSE)), "binance COIN-M balance")
        usd_m = mapping(await client.fetch_balance(dict(_LINEAR)), "binance USD-M balance")
        return (
            self.option_balances(options, account)
            + self.balances(coin_m, account)
            + self.usd_m_balances(usd_m, account)
        )

    def option_mark(self, vm: VenueMarket, mark: Payload, ticker: Payload, ts_ms: int) -> Mark:
        """Mark from ``eapi/v1/mark`` plus the quotes and index of ``eapi/v1/ticker``."""
        where = f"binance option {vm.symbol}"
        return Mark(
            symbol=vm.symbol,
            mark_price=positive(mark, "markPrice", where),
            underlying_usd=positive(ticker, "exercisePrice", where),
            ts_ms=ts_ms,
            mark_iv=positive(mark, "markIV", where),
            venue_delta=num(mark, "delta", where),
            bid=opt_positive(ticker, "bidPrice", where),
            ask=opt_positive(ticker, "askPrice", where),
        )

    def futures_mark(
        self, vm: VenueMarket, premium: Payload, book: Payload | None, now_ms: int
    ) -> Mark:
        """Mark from ``premiumIndex`` plus ``ticker/bookTicker`` quotes (dapi or fapi).

        A future is its own forward; a USDⓈ-M mark is in USDT, taken as USD.
        """
        where = f"binance {vm.symbol}"
        mark_price = positive(premium, "markPrice", where)
        quotes = book or {}
        return Mark(
            symbol=vm.symbol,
            mark_price=mark_price,
            underlying_usd=mark_price,
            ts_ms=opt_ms(premium, "time", where) or now_ms,
            bid=opt_positive(quotes, "bidPrice", where),
            ask=opt_positive(quotes, "askPrice", where),
            funding_rate=opt_num(premium, "lastFundingRate", where)
            if vm.instrument.kind is InstrumentKind.PERPETUAL
            else None,
        )

    async def fetch_marks(
        self, client: Any, markets: Sequence[VenueMarket], now_ms: int
    ) -> MarkBatch:
        """Options: all marks and all tickers (two calls); COIN-M and USDⓈ-M: premium
        index and books (two calls each). The USD index comes from COIN-M when both
        are read (a USDⓈ-M index is in USDT)."""
        marks: dict[Symbol, Mark] = {}
        index: dict[Currency, float] = {}
        index_ts: dict[Currency, int] = {}
        options = [vm for vm in markets if vm.instrument.is_option]
        if options:
            greeks = _raw_by_symbol(await client.fetch_all_greeks(), "option mark")
            tickers = _raw_by_symbol(await client.fetch_bids_asks(None, dict(_OPTION)), "ticker")
            for vm in options:
                if vm.market_id in greeks and vm.market_id in tickers:
                    mark = self.option_mark(vm, greeks[vm.market_id], tickers[vm.market_id], now_ms)
                    marks[vm.symbol] = mark
        for params in (_INVERSE, _LINEAR):
            group = [
                vm
                for vm in markets
                if not vm.instrument.is_option and vm.instrument.is_inverse == (params is _INVERSE)
            ]
            if not group:
                continue
            premium = _raw_by_symbol(await client.fetch_mark_prices(None, dict(params)), "premium")
            books = _raw_by_symbol(await client.fetch_bids_asks(None, dict(params)), "bookTicker")
            for vm in group:
                if vm.market_id in premium:
                    raw = premium[vm.market_id]
                    mark = self.futures_mark(vm, raw, books.get(vm.market_id), now_ms)
                    marks[vm.symbol] = mark
                    idx = opt_positive(raw, "indexPrice", f"binance {vm.symbol}")
                    if idx is not None and vm.instrument.underlying not in index:
                        index[vm.instrument.underlying] = idx
                        index_ts[vm.instrument.underlying] = mark.ts_ms
        return MarkBatch(marks, index, index_ts)


def _is_margin(entry: Payload, currency: str, multi_assets: bool) -> bool:
    """Whether a USDⓈ-M asset line counts as margin (see ``usd_m_balances``)."""
    if entry.get("marginAvailable") is False:
        return False
    return multi_assets or currency in SINGLE_ASSET_MARGIN
