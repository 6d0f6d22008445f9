"""Unmodified ccxt deribit against the emulator: every call the bot makes round-trips.

Only ``urls['api']['rest']`` is pointed at the emulator. The helpers at the top
are shared with the fault-knob tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import ccxt.async_support as ccxt
import pytest

from bot.clock import ManualClock
from bot.domain.timeunits import MS_PER_YEAR
from bot.pricing import black76
from bot.sim.exchange import SimExchange
from bot.sim.faults import Faults
from bot.sim.market import MarketModel
from bot.sim.network import SimNetwork
from bot.sim.server import RunningEmulator, run_emulator
from bot.sim.spec import AccountSpec, ExchangeSpec, default_main_account

START_MS = 1_736_150_400_000  # 2025-01-06T08:00:00Z
MAIN = default_main_account()
SUB = AccountSpec(
    id=2, username="sim_sub", client_id="sim-sub", client_secret="sim-sub-secret",
    balances={"BTC": 1.0},
)  # fmt: skip
PERP = "BTC/USD:BTC"


def make_exchange(
    name: str = "sim-a", *, network: SimNetwork | None = None, seed: int = 7
) -> tuple[SimExchange, ManualClock]:
    """A seeded exchange with a main and a sub-account, on a clock the test moves."""
    clock = ManualClock(START_MS)
    config = ExchangeSpec.default(name, START_MS, accounts=(MAIN, SUB))
    market = MarketModel.default(START_MS, seed=seed, underlyings=config.underlyings)
    return SimExchange(market, clock, config, network), clock


@asynccontextmanager
async def ccxt_client(
    emulator: RunningEmulator, key: str = MAIN.client_id, secret: str = MAIN.client_secret
) -> AsyncIterator[Any]:
    """Real ccxt deribit aimed at the emulator, 1.5 s timeout, markets loaded."""
    client = ccxt.deribit(
        {"apiKey": key, "secret": secret, "timeout": 1500, "enableRateLimit": False}
    )
    client.urls["api"]["rest"] = emulator.base_url
    try:
        await client.load_markets()
        yield client
    finally:
        await client.close()


@asynccontextmanager
async def venue(
    faults: Faults | None = None, *, seed: int = 7
) -> AsyncIterator[tuple[RunningEmulator, Any, ManualClock]]:
    """One emulator on loopback and a ccxt client logged in as the main account."""
    exchange, clock = make_exchange(seed=seed)
    async with run_emulator(exchange, faults=faults) as emulator, ccxt_client(emulator) as client:
        yield emulator, client, clock


def atm_option(client: Any, base: str = "BTC") -> dict[str, Any]:
    """The nearest-expiry call whose strike is closest to the index."""
    options = [m for m in client.markets.values() if m["option"] and m["base"] == base]
    expiry = min(m["expiry"] for m in options)
    calls = [m for m in options if m["expiry"] == expiry and m["optionType"] == "call"]
    spot = 60_000.0 if base == "BTC" else 3_000.0
    return min(calls, key=lambda m: abs(m["strike"] - spot))


async def test_markets_parse_with_deribit_contract_sizes_and_types() -> None:
    """load_markets yields inverse perps/futures (10 USD BTC lots) and coin-sized options."""
    async with venue() as (_, client, _clock):
        perp = client.market(PERP)
        assert (perp["type"], perp["inverse"], perp["contractSize"]) == ("swap", True, 10.0)
        assert perp["id"] == "BTC-PERPETUAL"
        futures = [m for m in client.markets.values() if m["future"] and m["base"] == "BTC"]
        assert futures and all(m["inverse"] and m["contractSize"] == 10.0 for m in futures)
        option = atm_option(client)
        assert option["type"] == "option" and option["contractSize"] == 1.0
        assert option["expiry"] > START_MS and option["strike"] > 0
        assert option["settle"] == "BTC" and option["quote"] == "USD"
        assert any(m["base"] == "ETH" and m["option"] for m in client.markets.values())


async def test_fetch_currencies_lists_coins_with_withdrawal_fees() -> None:
    """fetch_currencies returns BTC, ETH and USDC, with Deribit's withdrawal fee as fee."""
    async with venue() as (_, client, _clock):
        currencies = await client.fetch_currencies()
        assert {"BTC", "ETH", "USDC"} <= set(currencies)
        assert currencies["BTC"]["fee"] == pytest.approx(0.0001)


async def test_tickers_books_and_index_agree() -> None:
    """Ticker, order book, index price and book summaries describe one consistent market."""
    async with venue() as (_, client, _clock):
        ticker = await client.fetch_ticker(PERP)
        assert ticker["symbol"] == PERP and ticker["timestamp"] == START_MS
        assert ticker["bid"] < ticker["markPrice"] < ticker["ask"]
        book = await client.fetch_order_book(PERP, limit=3)
        assert 0 < len(book["bids"]) <= 3 and 0 < len(book["asks"]) <= 3
        assert book["bids"][0][0] < book["asks"][0][0]
        assert [b[0] for b in book["bids"]] == sorted((b[0] for b in book["bids"]), reverse=True)
        index = await client.public_get_get_index_price({"index_name": "btc_usd"})
        assert index["result"]["index_price"] == pytest.approx(ticker["indexPrice"])
        option = atm_option(client)
        tickers = await client.fetch_tickers([option["symbol"]])
        assert tickers[option["symbol"]]["markPrice"] > 0
        summaries = await client.public_get_get_book_summary_by_currency(
            {"currency": "BTC", "kind": "future"}
        )
        names = {s["instrument_name"] for s in summaries["result"]}
        assert "BTC-PERPETUAL" in names and not any(n.endswith("-C") for n in names)


async def test_balance_and_account_summary() -> None:
    """fetch_balance shows the initial coin balances, per currency and for all at once."""
    async with venue() as (_, client, _clock):
        balance = await client.fetch_balance()
        assert balance["BTC"]["total"] == pytest.approx(10.0)
        assert balance["ETH"]["total"] == pytest.approx(100.0)
        btc = await client.fetch_balance({"code": "BTC"})
        assert btc["BTC"]["free"] == pytest.approx(10.0)
        summary = await client.private_get_get_account_summary({"currency": "BTC"})
        assert summary["result"]["equity"] == pytest.approx(10.0)


async def test_ioc_market_order_fills_and_shows_in_positions_and_trades() -> None:
    """A labelled IOC perp buy fills; position, my trades, closed orders and label lookup agree."""
    async with venue() as (emulator, client, _clock):
        order = await client.create_order(
            PERP, "market", "buy", 1000, None, {"timeInForce": "IOC", "label": "hedge-1"}
        )
        assert order["status"] == "closed" and order["filled"] == 1000
        assert order["timeInForce"] == "IOC" and order["trades"]
        positions = await client.fetch_positions([PERP])
        assert [(p["symbol"], p["contracts"], p["side"]) for p in positions] == [
            (PERP, 1000, "long")
        ]
        trades = await client.fetch_my_trades(PERP)
        assert sum(t["amount"] for t in trades) == 1000
        assert {t["order"] for t in trades} == {order["id"]}
        closed = await client.fetch_closed_orders()
        assert order["id"] in {o["id"] for o in closed}
        by_label = await client.private_get_get_order_state_by_label(
            {"currency": "BTC", "label": "hedge-1"}
        )
        assert [o["order_id"] for o in by_label["result"]] == [order["id"]]
        assert await client.fetch_my_trades(PERP, since=START_MS) == trades
        page = await client.private_get_get_user_trades_by_currency({"currency": "BTC", "count": 1})
        assert len(page["result"]["trades"]) == 1
        assert page["result"]["has_more"] is (len(trades) > 1)
        assert emulator.exchange.order_log()[-1].order_id == order["id"]


async def test_option_limit_ioc_buy_fills_in_coin() -> None:
    """An option is bought in coin amounts at a coin price; the position size is in coin."""
    async with venue() as (_, client, _clock):
        option = atm_option(client)
        ask = (await client.fetch_ticker(option["symbol"]))["ask"]
        order = await client.create_order(
            option["symbol"], "limit", "buy", 0.5, ask, {"timeInForce": "IOC"}
        )
        assert order["filled"] == pytest.approx(0.5) and 0 < order["average"] < 1
        positions = await client.fetch_positions(params={"currency": "BTC", "kind": "option"})
        assert [(p["symbol"], p["contracts"]) for p in positions] == [(option["symbol"], 0.5)]


async def test_option_ticker_greeks_and_position_delta_agree() -> None:
    """public/ticker carries the Black-Scholes greeks.delta per coin, as Deribit's does; a held
    option's get_positions delta is size × (that delta − coin mark), Deribit's net delta."""
    async with venue() as (_, client, _clock):
        option = atm_option(client)
        ticker = await client.public_get_ticker({"instrument_name": option["id"]})
        greeks = ticker["result"]["greeks"]
        assert set(greeks) == {"delta", "gamma", "vega", "theta", "rho"}
        assert 0.0 < greeks["delta"] < 1.0
        ask = (await client.fetch_ticker(option["symbol"]))["ask"]
        await client.create_order(
            option["symbol"], "limit", "buy", 0.5, ask, {"timeInForce": "IOC"}
        )
        (position,) = await client.fetch_positions(params={"currency": "BTC", "kind": "option"})
        mark = ticker["result"]["mark_price"]
        assert position["info"]["delta"] == pytest.approx(0.5 * (greeks["delta"] - mark))


async def test_resting_post_only_order_label_lookup_and_cancel() -> None:
    """A post-only order rests; open-order and label lookups find it; cancel closes it."""
    async with venue() as (_, client, _clock):
        bid = (await client.fetch_ticker(PERP))["bid"]
        price = client.price_to_precision(PERP, bid * 0.9)
        order = await client.create_order(
            PERP, "limit", "buy", 100, price, {"postOnly": True, "label": "rest-1"}
        )
        assert order["status"] == "open" and order["postOnly"] is True
        assert order["id"] in {o["id"] for o in await client.fetch_open_orders()}
        assert order["id"] in {o["id"] for o in await client.fetch_open_orders(PERP)}
        by_label = await client.private_get_get_open_orders_by_label(
            {"currency": "BTC", "label": "rest-1"}
        )
        assert [o["order_id"] for o in by_label["result"]] == [order["id"]]
        canceled = await client.cancel_order(order["id"])
        assert canceled["status"] == "canceled"
        assert (await client.fetch_order(order["id"]))["status"] == "canceled"
        by_label = await client.private_get_get_open_orders_by_label(
            {"currency": "BTC", "label": "rest-1"}
        )
        assert by_label["result"] == []


async def test_reduce_only_order_cannot_open_a_position() -> None:
    """A reduce-only sell with no position is refused (11030 other_reject) and opens nothing."""
    async with venue() as (_, client, _clock):
        with pytest.raises(ccxt.ExchangeError, match="reduce_only"):
            await client.create_order(
                PERP, "market", "sell", 100, None, {"reduceOnly": True, "timeInForce": "IOC"}
            )
        assert await client.fetch_positions([PERP]) == []


async def test_transfer_to_subaccount_moves_coin() -> None:
    """transfer() to the sub-account id debits main and credits the sub-account."""
    async with venue() as (emulator, client, _clock):
        accounts = await client.private_get_get_subaccounts()
        assert {a["id"] for a in accounts["result"]} == {MAIN.id, SUB.id}
        transfer = await client.transfer("BTC", 0.5, str(MAIN.id), str(SUB.id))
        assert transfer["amount"] == pytest.approx(0.5)
        async with ccxt_client(emulator, SUB.client_id, SUB.client_secret) as sub:
            assert (await sub.fetch_balance())["BTC"]["total"] == pytest.approx(1.5)
        assert (await client.fetch_balance())["BTC"]["total"] == pytest.approx(9.5)


async def test_withdrawal_lands_as_deposit_on_a_second_emulator() -> None:
    """A withdrawal to venue B's deposit address shows on A, then lands as a deposit on B."""
    network = SimNetwork()
    ex_a, clock_a = make_exchange("sim-a", network=network)
    ex_b, clock_b = make_exchange("sim-b", network=network)
    async with (
        run_emulator(ex_a) as emu_a,
        run_emulator(ex_b) as emu_b,
        ccxt_client(emu_a) as a,
        ccxt_client(emu_b) as b,
    ):
        address = (await b.fetch_deposit_address("BTC"))["address"]
        assert await b.fetch_deposits("BTC") == []
        await a.withdraw("BTC", 1.0, address)
        withdrawals = await a.fetch_withdrawals("BTC")
        assert [(w["address"], w["amount"], w["type"]) for w in withdrawals] == [
            (address, 1.0, "withdrawal")
        ]
        day_ms = 24 * 3600 * 1000
        clock_a.advance(day_ms)
        clock_b.advance(day_ms)
        deposits = await b.fetch_deposits("BTC")
        assert [(d["address"], d["type"]) for d in deposits] == [(address, "deposit")]
        received = deposits[0]["amount"]
        assert 0.99 <= received <= 1.0
        assert (await b.fetch_balance())["BTC"]["total"] == pytest.approx(10.0 + received)
        assert (await a.fetch_balance())["BTC"]["total"] < 9.0 + 1e-9


@pytest.mark.parametrize(
    ("action", "exception"),
    [
        ("overdrawn_transfer", ccxt.InsufficientFunds),
        ("cancel_unknown", ccxt.OrderNotFound),
        ("unknown_instrument", ccxt.ExchangeError),
        ("bad_amount", ccxt.BadRequest),
    ],
)
async def test_engine_refusals_map_to_ccxt_exceptions(
    action: str, exception: type[Exception]
) -> None:
    """Engine errors keep Deribit's codes, so ccxt raises the same class as against Deribit."""
    async with venue() as (_, client, _clock):
        with pytest.raises(exception):
            if action == "overdrawn_transfer":
                await client.transfer("BTC", 100.0, str(MAIN.id), str(SUB.id))
            elif action == "cancel_unknown":
                await client.cancel_order("no-such-order")
            elif action == "unknown_instrument":
                await client.public_get_ticker({"instrument_name": "BTC-NOPE"})
            else:
                await client.private_get_buy({"instrument_name": "BTC-PERPETUAL", "amount": "x"})


@pytest.mark.parametrize(
    ("key", "secret"),
    [(MAIN.client_id, "wrong-secret"), ("unknown-key", MAIN.client_secret)],
)
async def test_bad_credentials_raise_authentication_error(key: str, secret: str) -> None:
    """A wrong secret (13009) or an unknown key (13004) is ccxt AuthenticationError."""
    exchange, _ = make_exchange()
    async with run_emulator(exchange) as emulator, ccxt_client(emulator, key, secret) as client:
        with pytest.raises(ccxt.AuthenticationError):
            await client.fetch_balance()
        assert exchange.order_log() == []


async def test_an_implied_vol_order_is_priced_in_coin_by_black_76() -> None:
    """advanced="implv" (Deribit): the price is an IV in percent; a bid at 10 vol rests at its
    Black-76 coin price rounded down to the tick, and a bid above the mark IV takes the ask."""
    async with venue() as (_, client, _clock):
        option = atm_option(client)
        ticker = (await client.public_get_ticker({"instrument_name": option["id"]}))["result"]
        forward, iv = ticker["underlying_price"], ticker["mark_iv"]
        tau = (option["expiry"] - START_MS) / MS_PER_YEAR
        low = float(black76(True, forward, option["strike"], tau, 0.10).price) / forward
        rest = await client.create_order(
            option["symbol"], "limit", "buy", 0.5, 10.0, {"advanced": "implv"}
        )
        assert rest["status"] == "open"
        assert low - 0.0005 < rest["price"] <= low
        take = await client.create_order(
            option["symbol"], "limit", "buy", 0.5, iv + 20.0,
            {"advanced": "implv", "timeInForce": "IOC"},
        )  # fmt: skip
        assert take["filled"] == pytest.approx(0.5)
