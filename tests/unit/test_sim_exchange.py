"""Simulated exchange: grid, marks, matching, fees, margin, liquidation and settlement."""

import math
import re
from collections.abc import Sequence
from dataclasses import replace

import pytest

from bot.clock import ManualClock
from bot.domain.timeunits import MS_PER_YEAR
from bot.pricing import black76
from bot.sim.errors import SimError
from bot.sim.exchange import SimExchange
from bot.sim.market import JumpEvent, MarketEvent, MarketModel, UnderlyingSpec
from bot.sim.paths import PathSpec
from bot.sim.spec import AccountSpec, ExchangeSpec, PositionSpec

T0 = 1_767_254_400_000  # Thursday 2026-01-01 00:00 UTC
HOUR = 3_600_000
MAIN = AccountSpec(1, "main", "k-main", "s-main", {"BTC": 10.0, "ETH": 100.0, "USDC": 1e5})


def world(
    *,
    events: Sequence[MarketEvent] = (),
    accounts: Sequence[AccountSpec] = (MAIN,),
    vol: float = 0.5,
    premium: float = 0.0008,
    spot: float = 60_000.0,
) -> tuple[ManualClock, MarketModel, SimExchange]:
    clk = ManualClock(T0)
    specs = {
        "BTC": UnderlyingSpec(path=PathSpec(spot_usd=spot, vol=vol), perp_premium=premium),
        "ETH": UnderlyingSpec(path=PathSpec(spot_usd=3_000.0, vol=vol), perp_premium=premium),
    }
    market = MarketModel(specs, seed=11, start_ms=T0, events=events)
    cfg = ExchangeSpec.default("sim", T0, accounts=accounts, spot_usd={"BTC": spot, "ETH": 3e3})
    return clk, market, SimExchange(market, clk, cfg)


def first_option(ex: SimExchange, *, call: bool = True, near: float = 60_000.0) -> str:
    """The nearest-expiry option of that type with the strike closest to ``near``."""
    opts = [
        i for i in ex.instruments("BTC", "option") if i.option_type == ("call" if call else "put")
    ]
    expiry = min(i.expiration_timestamp for i in opts)
    return min(
        (i for i in opts if i.expiration_timestamp == expiry),
        key=lambda i: abs((i.strike or 0.0) - near),
    ).instrument_name


def test_grid_uses_deribit_names_and_contract_rules() -> None:
    """Perp 10 USD lots / 0.5 tick, options 0.1 BTC min with tick steps, 08:00 UTC expiries."""
    _, _, ex = world()
    by_name = {i.instrument_name: i for i in ex.instruments("BTC")}
    perp = by_name["BTC-PERPETUAL"]
    assert (perp.kind, perp.settlement_period, perp.contract_size, perp.tick_size) == (
        "future",
        "perpetual",
        10.0,
        0.5,
    )
    options = [i for i in by_name.values() if i.kind == "option"]
    assert options and all(
        re.fullmatch(r"BTC-\d{1,2}[A-Z]{3}\d{2}-\d+-[CP]", o.instrument_name) for o in options
    )
    assert {o.min_trade_amount for o in options} == {0.1}
    assert options[0].tick_size_steps == [{"above_price": 0.005, "tick_size": 0.0005}]
    assert all(o.expiration_timestamp % 86_400_000 == 8 * HOUR for o in options)
    linear = ex.instruments("USDC")
    assert [i.instrument_name for i in linear] == ["BTC_USDC-PERPETUAL", "ETH_USDC-PERPETUAL"]
    assert linear[0].min_trade_amount == 0.001
    assert {i.min_trade_amount for i in ex.instruments("ETH", "option")} == {1.0}


def test_option_mark_is_black76_over_forward() -> None:
    """Option mark (coin) = Black-76 USD value at the smile vol / forward; IV in percent."""
    clk, market, ex = world()
    clk.advance(90 * 60_000)
    name = first_option(ex)
    t = ex.ticker(name)
    inst = next(i for i in ex.instruments("BTC", "option") if i.instrument_name == name)
    tau = (inst.expiration_timestamp - market.now_ms) / MS_PER_YEAR
    fwd = market.forward_usd("BTC", inst.expiration_timestamp)
    vol = market.implied_vol("BTC", inst.expiration_timestamp, inst.strike or 0.0)
    g = black76(True, fwd, inst.strike, tau, vol)
    assert t.mark_price == pytest.approx(float(g.price) / fwd, rel=1e-12)
    assert t.underlying_price == pytest.approx(fwd)
    assert t.mark_iv == pytest.approx(vol * 100)
    assert t.greeks is not None and t.greeks["delta"] == pytest.approx(float(g.delta))
    assert t.timestamp == T0 + 90 * 60_000


def test_ioc_walks_levels_and_cancels_the_rest() -> None:
    """An IOC buy takes whole ask levels up to its limit at level prices, the rest is cancelled."""
    _, _, ex = world()
    book = ex.order_book("BTC-PERPETUAL", depth=5)
    (p0, a0), (p1, a1) = book.asks[0], book.asks[1]
    order, trades = ex.place_order(
        1,
        direction="buy",
        instrument_name="BTC-PERPETUAL",
        amount=a0 + a1 + 1_000.0,
        type="limit",
        price=p1,
        time_in_force="immediate_or_cancel",
    )
    assert [(t.price, t.amount) for t in trades] == [(p0, a0), (p1, a1)]
    assert order.order_state == "cancelled"
    assert order.filled_amount == a0 + a1
    assert order.average_price == pytest.approx((p0 * a0 + p1 * a1) / (a0 + a1))
    assert ex.positions(1, "BTC")[0].size == a0 + a1
    assert ex.open_orders(1) == []


def test_taker_fees_follow_deribit_rates() -> None:
    """Perp taker pays 0.05% of the coin notional; an option pays min(0.0003, 12.5% price)/coin."""
    _, _, ex = world()
    _, [perp_fill] = ex.place_order(
        1, direction="sell", instrument_name="BTC-PERPETUAL", amount=1_000.0, type="market"
    )
    assert perp_fill.fee == pytest.approx(0.0005 * 1_000.0 / perp_fill.price)
    assert perp_fill.liquidity == "T"
    _, fills = ex.place_order(
        1, direction="buy", instrument_name=first_option(ex), amount=0.5, type="market"
    )
    assert fills[0].fee == pytest.approx(min(0.0003 * 0.5, 0.125 * fills[0].price * 0.5))
    assert fills[0].fee_currency == "BTC"


def test_post_only_rejected_when_it_would_cross() -> None:
    """A post-only bid at the best ask is refused with 11054; one below the ask rests."""
    _, _, ex = world()
    ask = ex.ticker("BTC-PERPETUAL").best_ask_price
    assert ask is not None
    with pytest.raises(SimError) as err:
        ex.place_order(
            1,
            direction="buy",
            instrument_name="BTC-PERPETUAL",
            amount=100.0,
            price=ask,
            post_only=True,
        )
    assert err.value.code == 11054
    order, trades = ex.place_order(
        1,
        direction="buy",
        instrument_name="BTC-PERPETUAL",
        amount=100.0,
        price=ask - 50.0,
        post_only=True,
        label="rest-1",
    )
    assert trades == [] and order.order_state == "open"
    assert [o.order_id for o in ex.orders_by_label(1, "BTC", "rest-1")] == [order.order_id]


def test_resting_order_fills_as_maker_when_the_mark_crosses() -> None:
    """A GTC bid 3% under the mark fills at its own price, maker (0 fee), after a -5% jump."""
    clk, _, ex = world(events=[JumpEvent(T0 + HOUR, "BTC", -0.05)], vol=0.05)
    mark = ex.ticker("BTC-PERPETUAL").mark_price
    price = math.floor(mark * 0.97 / 0.5) * 0.5
    order, _ = ex.place_order(
        1, direction="buy", instrument_name="BTC-PERPETUAL", amount=500.0, price=price
    )
    clk.advance(HOUR // 2)
    assert ex.order_state(1, order.order_id).order_state == "open"
    clk.advance(HOUR)
    done = ex.order_state(1, order.order_id)
    assert done.order_state == "filled" and done.average_price == price
    [trade] = ex.user_trades(1, "BTC")
    assert (trade.liquidity, trade.fee, trade.price) == ("M", 0.0, price)


def test_reduce_only_is_clamped_to_the_position_and_refused_when_flat() -> None:
    """A reduce-only sell larger than the long only closes it; with no long it is refused."""
    _, _, ex = world()
    ex.place_order(
        1, direction="buy", instrument_name="BTC-PERPETUAL", amount=1_000.0, type="market"
    )
    order, trades = ex.place_order(
        1,
        direction="sell",
        instrument_name="BTC-PERPETUAL",
        amount=5_000.0,
        type="market",
        reduce_only=True,
    )
    assert order.amount == 1_000.0 and sum(t.amount for t in trades) == 1_000.0
    assert ex.positions(1, "BTC") == []
    with pytest.raises(SimError) as err:
        ex.place_order(
            1,
            direction="sell",
            instrument_name="BTC-PERPETUAL",
            amount=10.0,
            type="market",
            reduce_only=True,
        )
    assert err.value.code == 11030 and err.value.data == {
        "param": "reduce_only",
        "reason": "no position on the other side to reduce",
    }


def test_order_beyond_equity_is_rejected_with_10009() -> None:
    """IM after the order above equity: 10009, nothing booked; reduce-only still passes."""
    poor = AccountSpec(2, "poor", "k-poor", "s-poor", {"BTC": 0.01})
    _, _, ex = world(accounts=(MAIN, poor))
    with pytest.raises(SimError) as err:
        ex.place_order(
            2, direction="buy", instrument_name="BTC-PERPETUAL", amount=100_000.0, type="market"
        )
    assert err.value.code == 10009
    assert ex.order_log() == [] and ex.account_summary(2, "BTC").balance == 0.01
    with pytest.raises(SimError) as err:
        ex.place_order(
            2,
            direction="buy",
            instrument_name=first_option(ex, near=50_000),
            amount=1.0,
            type="market",
        )
    assert err.value.code == 10009


@pytest.mark.parametrize(
    ("kwargs", "code", "param"),
    [
        ({"amount": math.nan}, 10021, "amount"),
        ({"amount": 15.0}, 10021, "amount"),
        ({"amount": 5.0}, 10002, "amount"),
        ({"instrument_name": "BTC-1JAN99-1-C"}, 10020, "instrument_name"),
        ({"price": 60_000.3}, 10043, "price"),
        ({"price": None}, 10023, "price"),
        ({"label": "x" * 65}, 11050, "label"),
        ({"direction": "hold"}, 11050, "direction"),
        ({"time_in_force": "day"}, 11050, "time_in_force"),
    ],
)
def test_bad_order_input_names_the_parameter(
    kwargs: dict[str, object], code: int, param: str
) -> None:
    """Each malformed order field is refused with Deribit's code and data.param naming it."""
    _, _, ex = world()
    args: dict[str, object] = {
        "direction": "buy",
        "instrument_name": "BTC-PERPETUAL",
        "amount": 100.0,
        "price": 50_000.0,
        **kwargs,
    }
    with pytest.raises(SimError) as err:
        ex.place_order(1, **args)  # type: ignore[arg-type]
    assert err.value.code == code
    assert err.value.data is not None and err.value.data["param"] == param


def test_inverse_position_pnl_example() -> None:
    """Long 10,000 USD perp from 50,000 with the mark at 55,000: +0.01818 BTC floating."""
    pos = PositionSpec("BTC-PERPETUAL", 10_000.0, 50_000.0)
    acc = AccountSpec(1, "main", "k", "s", {"BTC": 1.0}, (pos,))
    _, _, ex = world(accounts=(acc,), premium=0.0, spot=55_000.0)
    [p] = ex.positions(1, "BTC")
    assert p.mark_price == pytest.approx(55_000.0)
    assert p.floating_profit_loss == pytest.approx(0.0181818, abs=1e-7)
    assert p.size_currency == pytest.approx(10_000 / 55_000)
    s = ex.account_summary(1, "BTC")
    assert s.equity == pytest.approx(1.0 + 0.0181818, abs=1e-7)


def test_position_delta_and_delta_total_are_net_of_the_option_premium() -> None:
    """Deribit's Net Transaction Delta: an option position's delta and delta_total count
    size × (ticker Black-Scholes delta − coin mark); the ticker and options_delta stay BS."""
    pos = PositionSpec("BTC-PERPETUAL", -30_000.0)
    acc = AccountSpec(1, "main", "k", "s", {"BTC": 10.0}, (pos,))
    _, _, ex = world(accounts=(acc,))
    name = first_option(ex, near=45_000.0)  # deep in the money: a large premium
    ex.place_order(1, direction="buy", instrument_name=name, amount=2.0, type="market")
    t = ex.ticker(name)
    assert t.greeks is not None
    bs, mark = t.greeks["delta"], t.mark_price
    assert mark > 0.2, "the premium must matter"
    positions = {p.instrument_name: p for p in ex.positions(1, "BTC")}
    assert positions[name].delta == pytest.approx(2.0 * (bs - mark), rel=1e-12)
    perp_coin = positions["BTC-PERPETUAL"].size_currency
    assert positions["BTC-PERPETUAL"].delta == perp_coin
    s = ex.account_summary(1, "BTC")
    assert s.delta_total == pytest.approx(perp_coin + 2.0 * (bs - mark), rel=1e-12)
    assert s.options_delta == pytest.approx(2.0 * bs, rel=1e-12)


def test_perp_funding_accrues_to_the_balance() -> None:
    """Long 60,000 USD perp for 8h at 0.03%/8h pays 0.0003 x 1 BTC of funding."""
    pos = PositionSpec("BTC-PERPETUAL", 60_000.0)
    acc = AccountSpec(1, "main", "k", "s", {"BTC": 1.0}, (pos,))
    clk, _, ex = world(accounts=(acc,), vol=1e-6)
    clk.advance(8 * HOUR)
    [p] = ex.positions(1, "BTC")
    assert p.realized_funding == pytest.approx(-0.0003, rel=1e-3)
    assert ex.account_summary(1, "BTC").balance == pytest.approx(1.0 - 0.0003, rel=1e-6)


def test_liquidation_closes_positions_at_mark_when_equity_falls_below_mm() -> None:
    """A 5x long perp loses its equity in a -20% jump and is closed at mark, recorded."""
    pos = PositionSpec("BTC-PERPETUAL", 300_000.0, 60_000.0)
    acc = AccountSpec(1, "main", "k", "s", {"BTC": 1.0}, (pos,))
    clk, _, ex = world(accounts=(acc,), events=[JumpEvent(T0 + HOUR, "BTC", -0.20)], vol=0.01)
    clk.advance(HOUR // 2)
    assert ex.positions(1, "BTC") != []
    clk.advance(HOUR)
    assert ex.positions(1, "BTC") == []
    [liq] = ex.order_log()
    assert liq.is_liquidation and liq.direction == "sell" and liq.filled_amount == 300_000.0
    [trade] = ex.user_trades(1, "BTC")
    assert trade.price == pytest.approx(trade.mark_price)
    assert ex.account_summary(1, "BTC").equity < 0


def test_expiry_settles_options_and_futures_at_the_index() -> None:
    """At expiry an ITM call pays (S-K)/S coin, the future its inverse P&L; both delist."""
    _, probe, ex0 = world(vol=0.3)
    call = first_option(ex0, near=50_000)
    expiry = next(
        i.expiration_timestamp for i in ex0.instruments("BTC") if i.instrument_name == call
    )
    future = next(i for i in ex0.instruments("BTC", "future") if i.settlement_period == "month")
    positions = (
        PositionSpec(call, 2.0, 0.1),
        PositionSpec(future.instrument_name, -10_000.0, 60_000.0),
    )
    acc = AccountSpec(1, "main", "k", "s", {"BTC": 1.0}, positions)
    clk, _, ex = world(accounts=(acc,), vol=0.3)
    probe.advance_to(expiry)
    s_expiry = probe.index_usd("BTC")
    strike = float(call.split("-")[2])
    clk.set(expiry + HOUR)
    balance = ex.account_summary(1, "BTC").balance
    assert balance == pytest.approx(1.0 - 2 * 0.1 + 2 * max(s_expiry - strike, 0) / s_expiry)
    assert call in {i.instrument_name for i in ex.instruments("BTC", "option", expired=True)}
    with pytest.raises(SimError) as err:
        ex.ticker(call)
    assert err.value.code == 10012
    clk.set(future.expiration_timestamp + HOUR)
    probe.advance_to(future.expiration_timestamp)
    s_fut = probe.index_usd("BTC")
    after = ex.account_summary(1, "BTC").balance
    assert after - balance == pytest.approx(-10_000 * (1 / 60_000 - 1 / s_fut), rel=1e-6)


@pytest.mark.parametrize("basis", [0.06, -0.06, math.nan])
def test_a_perp_basis_beyond_five_percent_is_refused(basis: float) -> None:
    """An exchange whose perpetual basis is not finite or over 5% either way is refused."""
    spec = ExchangeSpec.default("sim-x", T0)
    with pytest.raises(ValueError, match="perp_basis_frac"):
        replace(spec, perp_basis_frac=basis)
