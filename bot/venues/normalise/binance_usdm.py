"""Binance USDⓈ-M through ccxt's ``binanceusdm`` client: USDT-margined linear contracts only.

The same payloads as the ``fapi`` half of :mod:`bot.venues.normalise.binance`
(``positionAmt`` in base coin, marks from ``premiumIndex``, quotes from
``ticker/bookTicker``, balances from ``account``'s ``assets``), read through
the client that loads ``/fapi/v1/exchangeInfo`` alone. Binance answers a
futures order without its trades, so the fills of a filled answer are read
from ``/fapi/v1/userTrades`` by ``orderId``; a lost answer is looked up with
``GET /fapi/v1/order?origClientOrderId=`` (``newClientOrderId`` is unique
among open orders, and Binance keeps it on the order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar

import ccxt

from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId
from bot.domain.orders import OrderRequest
from bot.domain.pnl import FundingPayment
from bot.domain.snapshot import Balance
from bot.venues.normalise.binance import BinanceNormaliser
from bot.venues.normalise.common import (
    MarkBatch,
    Payload,
    VenueMarket,
    mapping,
    ms,
    num,
    text,
)


class BinanceUsdmNormaliser(BinanceNormaliser):
    exchange: ClassVar[str] = "binanceusdm"
    ccxt_options: ClassVar[Mapping[str, Any]] = MappingProxyType(
        {"fetchMarkets": {"types": ["linear"]}, "defaultType": "swap", "defaultSubType": "linear"}
    )
    position_queries: ClassVar[tuple[Mapping[str, Any], ...]] = ({"method": "positionRisk"},)
    fills_in_order_answer: ClassVar[bool] = False
    direct_order_lookup: ClassVar[bool] = True

    def configure_client(self, client: Any) -> None:
        """Map fapi's own error codes (-2019 margin, -4164 notional, -2022 reduce-only) for
        any host: ccxt files them under the fapi.binance.com URL only, so against another
        base URL they would fall through to a bare ExchangeError (Ambiguous)."""
        linear = client.exceptions.get("linear", {}).get("exact", {})
        client.exceptions["exact"] = {**client.exceptions["exact"], **linear}

    def order_params(self, request: OrderRequest) -> dict[str, Any]:
        """A post-only order is sent as ``timeInForce`` GTX, Binance's post-only: ccxt turns
        ``postOnly`` into GTX, then lets the ``timeInForce`` param (GTC) overwrite it, which
        would send a plain limit order that may take."""
        params = super().order_params(request)
        if request.post_only:
            params["timeInForce"] = "GTX"
        return params

    async def fetch_balances(self, client: Any, account: str) -> list[Balance]:
        usd_m = mapping(await client.fetch_balance(), "binance USD-M balance")
        return self.usd_m_balances(usd_m, account)

    async def fetch_marks(
        self, client: Any, markets: Sequence[VenueMarket], now_ms: int
    ) -> MarkBatch:
        """Premium index and books of the linear contracts (two calls)."""
        linear = [vm for vm in markets if not vm.instrument.is_option]
        return await super().fetch_marks(client, linear, now_ms)

    async def fetch_funding(
        self, client: Any, venue: VenueId, since_ms: int
    ) -> tuple[FundingPayment, ...]:
        """``GET /fapi/v1/income?incomeType=FUNDING_FEE&startTime=``: one entry per position
        per 8-hour settlement, ``income`` received (+) or paid (−) in ``asset``, ``tranId``
        its id (developers.binance.com, "Get Income History")."""
        rows = await client.fapiPrivateGetIncome(
            {"incomeType": "FUNDING_FEE", "startTime": since_ms, "limit": 1000}
        )
        out: list[FundingPayment] = []
        for raw in rows or ():
            row = mapping(raw, "binance income")
            market = client.safe_market(text(row, "symbol", "income"), None, None, "swap")
            out.append(
                FundingPayment(
                    venue=venue,
                    payment_id=str(row.get("tranId") or ""),
                    symbol=Symbol(market["symbol"]),
                    underlying=Currency(market["base"]),
                    ts_ms=ms(row, "time", "income"),
                    amount=num(row, "income", "income"),
                    currency=Currency(text(row, "asset", "income")),
                )
            )
        return tuple(out)

    async def order_by_client_id(
        self, client: Any, vm: VenueMarket, client_id: ClientOrderId
    ) -> Payload | None:
        """``GET /fapi/v1/order`` by ``origClientOrderId``; None when Binance has no such order."""
        try:
            order = await client.fetch_order(None, vm.symbol, {"origClientOrderId": client_id})
        except ccxt.OrderNotFound:
            return None
        return mapping(order, "binance order")
