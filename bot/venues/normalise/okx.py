"""OKX: every derivative counts contracts, each worth ``ctVal × ctMult`` of ``ctValCcy``.

From the OKX v5 instrument documentation: BTC-USD-SWAP has ``ctVal`` 100,
``ctValCcy`` USD (an inverse contract of 100 USD), BTC-USDT-SWAP has
``ctVal`` 0.01 BTC, and a BTC-USD option has ``ctVal`` 1 and ``ctMult`` 0.01,
i.e. 0.01 BTC per contract with its premium in BTC. So ``pos`` = -300 on
BTC-USD-SWAP is -30,000 USD, and 300 option contracts are 3 BTC.

Greeks come from ``public/opt-summary``, where ``delta`` is price-adjusted
(Black-Scholes delta minus the option's coin price) and ``deltaBS`` is the
plain Black-Scholes delta. We keep ``deltaBS``: ``Mark.venue_delta`` is the
per-unit Black-Scholes delta, and the exposure code subtracts the coin
premium itself (docs/architecture.md §3); taking ``delta`` would subtract it twice.
ccxt's unified ``delta`` is the price-adjusted one. ``markVol`` is a fraction.

Transfers (POST ``asset/transfer``) and withdrawals (POST ``asset/withdrawal``)
take ``clientId``, "a combination of case-sensitive alphanumerics, all numbers,
or all letters of up to 32 characters", and echo it in the answer, in
``asset/transfer-state`` and in ``asset/withdrawal-history``; we send our
transfer id there unchanged.

A sub-account transfer is ``asset/transfer`` with a ``type`` that depends on
whose API key signs it: ``1`` master to sub-account (master key, ``subAcct`` =
the destination's name), ``3`` sub-account to master and ``4`` sub-account to
sub-account (the sending sub-account's own key; ``4`` names the destination in
``subAcct``). Type ``2`` (sub to master) is for the master's key, which cannot
trade a sub-account, so a venue whose ``account`` is a sub-account uses ``3``.
``from``/``to`` are account types: 6 funding, 18 trading. ccxt's unified
``transfer`` sends type 0, a move between one user's own account types. Its
answer does not say the money moved ("the success or failure of the request
does not necessarily reflect the actual transfer result"): it is PROCESSING.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar

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
    ms,
    num,
    opt_num,
    opt_positive,
    positive,
    text,
)

_CCXT_TYPE = {
    InstrumentKind.OPTION: "option",
    InstrumentKind.PERPETUAL: "swap",
    InstrumentKind.FUTURE: "future",
}


def _by_inst_id(tickers: object, what: str) -> dict[str, Payload]:
    """Raw payloads of a ccxt ``{symbol: structure}`` answer, keyed by OKX ``instId``."""
    out = {}
    for value in mapping(tickers, f"okx {what}").values():
        raw = info(mapping(value, f"okx {what}"), f"okx {what}")
        out[text(raw, "instId", f"okx {what}")] = raw
    return out


class OkxNormaliser(Normaliser):
    exchange: ClassVar[str] = "okx"
    ccxt_options: ClassVar[Mapping[str, Any]] = MappingProxyType(
        {
            "fetchMarkets": {"types": ["swap", "future", "option"]},
            "createOrder": "privatePostTradeOrder",  # one order per request, not a batch of one
        }
    )
    raw_client_id_keys: ClassVar[tuple[str, ...]] = ("clOrdId",)
    duplicate_order_error: ClassVar[re.Pattern[str] | None] = re.compile(r'"sCode"\s*:\s*"51016"')
    """OKX 51016 "Duplicated clOrdId"."""
    transfer_id_params: ClassVar[Mapping[TransferKind, str]] = MappingProxyType(
        {TransferKind.SUBACCOUNT: "clientId", TransferKind.WITHDRAWAL: "clientId"}
    )
    transfer_id_echoes: ClassVar[Mapping[TransferKind, str]] = transfer_id_params
    subaccount_wallet_default: ClassVar[str | None] = "18"  # trading: where margin lives

    def subaccount_transfer_call(
        self, request: TransferRequest, route: SubaccountRoute, id_params: Mapping[str, Any]
    ) -> TransferCall:
        source, destination = route.venue_ids(self.exchange, master_has_one=False)
        wallet = route.wallet or self.subaccount_wallet_default
        body: dict[str, Any] = {
            "ccy": request.currency,
            "amt": amount_text(request.amount),
            "from": wallet,
            "to": wallet,
        }
        if source is None:  # the master's key
            body |= {"type": "1", "subAcct": destination}
        elif destination is None:  # the sub-account's own key
            body["type"] = "3"
        else:
            body |= {"type": "4", "subAcct": destination}
        return TransferCall("privatePostAssetTransfer", body | dict(id_params))

    def subaccount_transfer_answer(self, client: Any, answer: Any) -> Payload:
        """``data[0]`` of the answer, which carries no state: the transfer stays PROCESSING.

        OKX: "The success or failure of the request does not necessarily reflect
        the actual transfer result"; only ``asset/transfer-state`` settles it.
        """
        data = mapping(answer, "okx transfer").get("data")
        if not isinstance(data, list) or not data:
            raise MalformedResponseError("okx transfer: data must be a non-empty list")
        return dict(client.parse_transfer(mapping(data[0], "okx transfer data[0]")))

    def contract_value(self, market: Payload, where: str) -> float:
        raw = info(market, where)
        ct_val = positive(raw, "ctVal", where)
        ct_mult = opt_positive(raw, "ctMult", where) or 1.0
        ct_ccy = text(raw, "ctValCcy", where)
        usd_counted = bool(market.get("inverse")) and market.get("type") != "option"
        expected = "USD" if usd_counted else str(market.get("base"))
        if ct_ccy != expected:
            raise MalformedResponseError(
                f"{where}: ctValCcy {ct_ccy!r} does not match the amount unit {expected!r}"
            )
        return ct_val * ct_mult

    def position_size(self, vm: VenueMarket, position: Payload) -> float:
        where = f"okx position {vm.symbol}"
        raw = info(position, where)
        pos = num(raw, "pos", where)
        pos_side = raw.get("posSide", "net")
        if pos_side == "long":
            pos = abs(pos)
        elif pos_side == "short":
            pos = -abs(pos)
        elif pos_side != "net":
            raise MalformedResponseError(f"{where}: unknown posSide {pos_side!r}")
        return vm.to_amount(pos)

    def balances(self, balance: Payload, account: str) -> list[Balance]:
        """Per-currency lines of ``account/balance``.

        OKX leaves ``imr``/``mmr`` empty for a currency with no cross position;
        that reads as 0. In multi-currency and portfolio margin modes margin is
        account-wide in USD and not split by currency.
        """
        raw = info(balance, "okx balance")
        data = raw.get("data")
        if not isinstance(data, list) or not data:
            raise MalformedResponseError("okx balance: data must be a non-empty list")
        details = mapping(data[0], "okx balance data[0]").get("details")
        if not isinstance(details, list):
            raise MalformedResponseError("okx balance: data[0].details must be a list")
        out = []
        for i, item in enumerate(details):
            where = f"okx balance details[{i}]"
            entry = mapping(item, where)
            available = opt_num(entry, "availEq", where)
            out.append(
                Balance(
                    currency=Currency(text(entry, "ccy", where)),
                    equity=num(entry, "eq", where),
                    available=available if available is not None else num(entry, "availBal", where),
                    initial_margin=opt_num(entry, "imr", where) or 0.0,
                    maintenance_margin=opt_num(entry, "mmr", where) or 0.0,
                    account=account,
                )
            )
        return out

    def mark(
        self, vm: VenueMarket, mark_px: Payload, ticker: Payload | None, greeks: Payload | None
    ) -> Mark:
        """Mark from ``public/mark-price``, ``market/tickers`` and, for options, opt-summary."""
        where = f"okx mark {vm.symbol}"
        mark_price = positive(mark_px, "markPx", where)
        quotes = ticker or {}
        if vm.instrument.is_option:
            if greeks is None:
                raise MalformedResponseError(f"{where}: no opt-summary entry for this option")
            gw = f"okx opt-summary {vm.symbol}"
            return Mark(
                symbol=vm.symbol,
                mark_price=mark_price,
                underlying_usd=positive(greeks, "fwdPx", gw),
                ts_ms=ms(greeks, "ts", gw),
                mark_iv=positive(greeks, "markVol", gw),
                venue_delta=num(greeks, "deltaBS", gw),
                bid=opt_positive(quotes, "bidPx", where),
                ask=opt_positive(quotes, "askPx", where),
            )
        return Mark(
            symbol=vm.symbol,
            mark_price=mark_price,
            underlying_usd=mark_price,
            ts_ms=ms(mark_px, "ts", where),
            bid=opt_positive(quotes, "bidPx", where),
            ask=opt_positive(quotes, "askPx", where),
        )

    async def fetch_marks(
        self, client: Any, markets: Sequence[VenueMarket], now_ms: int
    ) -> MarkBatch:
        """Mark prices and quotes per instrument type (options per underlying), plus
        opt-summary for option IVs and Greeks: two or three calls per group."""
        groups: dict[tuple[str, str | None], list[VenueMarket]] = {}
        for vm in markets:
            ccxt_type = _CCXT_TYPE[vm.instrument.kind]
            uly = (
                text(vm.raw, "uly", f"okx market {vm.market_id}")
                if vm.instrument.is_option
                else None
            )
            groups.setdefault((ccxt_type, uly), []).append(vm)
        marks: dict[Symbol, Mark] = {}
        for (ccxt_type, uly), group in sorted(groups.items(), key=lambda kv: str(kv[0])):
            params: dict[str, Any] = {"type": ccxt_type} | ({"uly": uly} if uly else {})
            mark_px = _by_inst_id(await client.fetch_mark_prices(None, params), "mark-price")
            tickers = _by_inst_id(await client.fetch_tickers(None, params), "tickers")
            greeks: dict[str, Payload] = {}
            if uly is not None:
                greeks = _by_inst_id(
                    await client.fetch_all_greeks(None, {"uly": uly}), "opt-summary"
                )
            for vm in group:
                if vm.market_id not in mark_px:
                    continue
                marks[vm.symbol] = self.mark(
                    vm, mark_px[vm.market_id], tickers.get(vm.market_id), greeks.get(vm.market_id)
                )
        return MarkBatch(marks, {}, {})
