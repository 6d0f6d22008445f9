"""The hedge plan's pure core: one valuation per cycle feeds every figure the cycle uses."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from bot.config.risk import RiskConfig
from bot.domain.exposure import Numeraire, value_book
from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.instruments import AmountUnit, Instrument, InstrumentKind, Settlement
from bot.domain.pnl import linear_equity_usd
from bot.domain.position_table import KindCode, PositionTable
from bot.domain.risk import RiskLedger, evaluate
from bot.domain.routes import HedgeRoute
from bot.domain.settlement import SettlementMode, SettlementPolicy, counted_fraction
from bot.domain.snapshot import Balance, Mark, PortfolioSnapshot, Position, VenueSnapshot
from bot.domain.timeunits import MS_PER_MINUTE, MS_PER_YEAR
from bot.domain.trading_state import INITIAL_STATE
from bot.engine.plan import PlanInputs, plan_cycle
from bot.pricing import black76
from strategies.registry import load_strategy
from tests.books import BTC, NOW_MS, PERP, VENUE, small_btc_book

PRICING = ("black76", "black_scholes", "coin_settled", "implied_vol")


def _inputs(fixed_vols: dict[Symbol, float] | None) -> PlanInputs:
    return PlanInputs(
        strategy=load_strategy(
            "band", {"width_up": 0.01, "width_down": 0.01, "ignore_vol_moves": True}
        ),
        routes=(HedgeRoute(BTC, VENUE, PERP),),
        numeraire=Numeraire.USD,
        targets_coin={},
        cost_frac=0.0007,
        max_slippage_frac=0.005,
        max_order_notional_usd=1e9,
        in_flight={},
        last_hedge_ms={},
        fixed_vols=fixed_vols,
    )


@pytest.fixture
def pricing_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every pricing kernel, wherever a bot or strategy module imported it, counts its calls."""
    calls: list[str] = []

    def counting(name: str, kernel: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return kernel(*args, **kwargs)

        return wrapper

    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith(("bot.", "strategies.")):
            continue
        for name in PRICING:
            kernel = getattr(module, name, None)
            if callable(kernel):
                monkeypatch.setattr(module, name, counting(name, kernel))
    yield calls


def test_a_cycle_prices_the_book_once(pricing_calls: list[str]) -> None:
    """Plan and gate of one cycle, vol-only view included, make exactly one pricing call."""
    plan = plan_cycle(small_btc_book(), _inputs({Symbol("C1"): 0.4}), "cycle-1")
    evaluate(
        plan.intents,
        state=RiskLedger(),
        limits=RiskConfig().limits(),
        now_ms=NOW_MS,
        inputs=plan.inputs,
        trading_state=INITIAL_STATE,
        delta_checks=plan.delta_checks,
    )
    assert plan.intents and plan.delta_checks
    assert pricing_calls == ["black76"]


def _table_and_forward() -> tuple[PositionTable, np.ndarray]:
    table = PositionTable.from_snapshots(small_btc_book().venues)
    forward = np.where(table.kind == KindCode.OPTION, table.underlying_usd, table.mark_price)
    return table, forward


def test_fixed_vol_delta_of_the_single_pass_equals_a_separate_valuation() -> None:
    """The delta at the last hedge's vols, from the one stacked pass, equals the exposure
    valued on its own at those vols (options without a kept vol stay at today's)."""
    table, forward = _table_and_forward()
    kept = np.where(np.array(table.symbols) == "C1", 0.4, np.nan)
    one = value_book(
        table, forward_usd=forward, valuation_ts_ms=NOW_MS, numeraire="usd",
        collateral_coin=[2.0], fixed_vol=kept,
    )  # fmt: skip
    alone = value_book(
        table, forward_usd=forward, valuation_ts_ms=NOW_MS, numeraire="usd",
        collateral_coin=[2.0], vol_override=np.where(np.isnan(kept), table.mark_iv, kept),
    ).exposure  # fmt: skip
    assert one.delta_fixed_vol_coin is not None
    np.testing.assert_allclose(one.delta_fixed_vol_coin, alone.delta_coin, rtol=1e-13)
    assert one.delta_fixed_vol_coin[0] != pytest.approx(one.exposure.delta_coin[0], rel=1e-6)


def test_sigma_and_tau_are_the_options_weighted_by_position_vega() -> None:
    """The strategy's sigma and tau per underlying are the means of the options' vols and
    expiries weighted by |size x Black-76 vega|; only options carry a Black-76 delta."""
    table, forward = _table_and_forward()
    v = value_book(
        table, forward_usd=forward, valuation_ts_ms=NOW_MS, numeraire="usd", collateral_coin=[2.0]
    )
    opts = np.flatnonzero(table.kind == KindCode.OPTION)
    tau = (table.expiry_ms[opts] - NOW_MS) / MS_PER_YEAR
    unit = black76(table.is_call[opts], 60_000.0, table.strike_usd[opts], tau, table.mark_iv[opts])
    weight = np.abs(table.size[opts] * unit.vega)
    assert v.sigma[0] == pytest.approx(np.sum(weight * table.mark_iv[opts]) / weight.sum())
    assert v.tau_years_weighted[0] == pytest.approx(np.sum(weight * tau) / weight.sum())
    assert v.bs_delta[opts].size == 3 and np.isnan(v.bs_delta[table.kind != KindCode.OPTION]).all()


def test_the_plan_is_as_old_as_the_oldest_input_it_used() -> None:
    """The oldest of the used marks and the index wins; a mark nothing uses does not count."""
    book = small_btc_book()
    [snap] = book.venues
    unused = Symbol("UNUSED")
    marks = {
        **snap.marks,
        Symbol("P1"): dataclasses.replace(snap.marks[Symbol("P1")], ts_ms=NOW_MS - 7_000),
        unused: dataclasses.replace(snap.marks[PERP], symbol=unused, ts_ms=NOW_MS - 60_000),
    }
    aged = dataclasses.replace(snap, marks=marks, index_ts_ms={BTC: NOW_MS - 3_000})
    plan = plan_cycle(dataclasses.replace(book, venues=(aged,)), _inputs(None), "cycle-1")
    assert (plan.inputs.name, plan.inputs.ts_ms) == ("mark P1", NOW_MS - 7_000)
    older_perp = {**marks, PERP: dataclasses.replace(marks[PERP], ts_ms=NOW_MS - 9_000)}
    routed = dataclasses.replace(aged, marks=older_perp)
    plan = plan_cycle(dataclasses.replace(book, venues=(routed,)), _inputs(None), "cycle-2")
    assert (plan.inputs.name, plan.inputs.venue) == ("mark BTC/USD:BTC", VENUE)


def test_of_two_equally_old_marks_the_first_position_names_the_plans_age() -> None:
    """A tie between held positions' marks goes to the one first in the venue's book."""
    book = small_btc_book()
    [snap] = book.venues
    first, second = (p.instrument.symbol for p in snap.positions[:2])
    marks = {
        **snap.marks,
        **{s: dataclasses.replace(snap.marks[s], ts_ms=NOW_MS - 5_000) for s in (second, first)},
    }
    aged = dataclasses.replace(snap, marks=marks)
    plan = plan_cycle(dataclasses.replace(book, venues=(aged,)), _inputs(None), "cycle-1")
    assert (plan.inputs.name, plan.inputs.ts_ms) == (f"mark {first}", NOW_MS - 5_000)


def test_a_linear_venues_equity_reaches_the_decision_as_a_full_walk_finds_it() -> None:
    """A USDT perp beside the coin book: the decision's linear equity is linear_equity_usd's."""
    book = small_btc_book()
    perp = Instrument(
        VenueId("binance-a"), Symbol("BTC/USDT:USDT"), BTC, Currency("USDT"), Currency("USDT"),
        InstrumentKind.PERPETUAL, Settlement.LINEAR, AmountUnit.COIN, Currency("USDT"),
        0.1, 0.001, 0.001,
    )  # fmt: skip
    linear = VenueSnapshot(
        perp.venue, NOW_MS, {perp.symbol: perp}, (Position(perp, -2.0, 60_000.0),),
        (Balance(Currency("USDT"), 106_000.0, 106_000.0, 0.0, 0.0),),
        {perp.symbol: Mark(perp.symbol, 57_000.0, 57_000.0, NOW_MS)},
    )  # fmt: skip
    both = dataclasses.replace(book, venues=(*book.venues, linear))
    [decision] = plan_cycle(both, _inputs(None), "cycle-1").decisions
    assert decision.linear_usd == linear_equity_usd(both.venues, [BTC])[BTC] == 106_000.0


def _with_btc_balance(book: PortfolioSnapshot, options_value: float | None) -> PortfolioSnapshot:
    """``book`` whose venue reports 10.2 BTC of equity holding ``options_value`` of options."""
    [snap] = book.venues
    balance = Balance(BTC, 10.2, 10.0, 0.0, 0.0, options_value=options_value)
    return dataclasses.replace(book, venues=(dataclasses.replace(snap, balances=(balance,)),))


def test_the_options_value_inside_equity_is_taken_at_the_reads_marks() -> None:
    """A venue that reports its options' value inside equity has that value swapped for the
    same options at the read's marks: the collateral is 10.2 - 0.2 + sum(size x mark)."""
    book = small_btc_book()
    table = PositionTable.from_snapshots(book.venues)
    opts = (table.kind == KindCode.OPTION) & table.is_inverse
    marked = float(np.sum(table.size[opts] * table.mark_price[opts]))
    plain, swapped = (
        plan_cycle(_with_btc_balance(book, v), _inputs(None), "c").decisions[0] for v in (None, 0.2)
    )
    assert swapped.book_delta_coin - plain.book_delta_coin == pytest.approx(marked - 0.2)
    assert marked != pytest.approx(0.2)


@pytest.mark.parametrize(
    ("mode", "share"),
    [(SettlementMode.HEDGE, 1.0), (SettlementMode.FADE, 0.4), (SettlementMode.EXCLUDE, 0.0)],
)
def test_an_option_in_its_settlement_window_counts_as_the_policy_says(
    mode: SettlementMode, share: float
) -> None:
    """12 minutes before expiry, with a 30-minute window, a short ATM call counts in full
    (hedge), 0.4 (fade) or not at all (exclude) in the hedged delta; later expiries count
    in full."""
    table, forward = _table_and_forward()
    c1 = np.array(table.symbols) == "C1"
    closing = dataclasses.replace(  # at the money, 12 minutes to go
        table,
        expiry_ms=np.where(c1, NOW_MS + 12 * MS_PER_MINUTE, table.expiry_ms),
        strike_usd=np.where(c1, 60_000.0, table.strike_usd),
    )
    policy = SettlementPolicy(mode, 30 * MS_PER_MINUTE)
    counted = counted_fraction(closing, NOW_MS, policy)
    assert counted[list(closing.symbols).index("C1")] == pytest.approx(share)
    assert np.all(counted[np.array(closing.symbols) != "C1"] == 1.0)
    whole = value_book(
        closing, forward_usd=forward, valuation_ts_ms=NOW_MS, numeraire="coin",
        collateral_coin=[0.0],
    )  # fmt: skip
    counted_book = value_book(
        closing, forward_usd=forward, valuation_ts_ms=NOW_MS, numeraire="coin",
        collateral_coin=[0.0], counted_frac=counted,
    )  # fmt: skip
    alone = value_book(
        closing, forward_usd=forward, valuation_ts_ms=NOW_MS, numeraire="coin",
        collateral_coin=[0.0], counted_frac=np.array(closing.symbols) == "C1",
    )  # fmt: skip
    c1_delta = alone.exposure.delta_coin[0]
    assert abs(c1_delta) > 0.1
    assert counted_book.exposure.delta_coin[0] == pytest.approx(
        whole.exposure.delta_coin[0] - (1 - share) * c1_delta
    )


def test_each_decision_carries_the_band_its_strategy_decided_against() -> None:
    """A banded strategy's band is on the decision, in coin of total delta (Whalley-Wilmott's
    is symmetric around the target and as wide as its formula); interval's decision has none."""
    ww = dataclasses.replace(
        _inputs(None), strategy=load_strategy("whalley_wilmott", {"risk_aversion": 1e-4})
    )
    interval = dataclasses.replace(
        _inputs(None), strategy=load_strategy("interval", {"interval_s": 60.0})
    )
    d = plan_cycle(small_btc_book(), ww, "cycle-ww").decisions[0]
    assert d.band_lower_coin is not None and d.band_upper_coin is not None
    assert d.band_upper_coin > 0 and d.band_lower_coin == pytest.approx(-d.band_upper_coin)
    none = plan_cycle(small_btc_book(), interval, "cycle-interval").decisions[0]
    assert (none.band_lower_coin, none.band_upper_coin) == (None, None)


def test_the_decision_carries_the_books_vanna_and_volga_from_the_one_valuation() -> None:
    """Vanna and volga per underlying reach the decision (and the strategy) from value_book."""
    portfolio = small_btc_book()
    d = plan_cycle(portfolio, _inputs(None), "cycle-vanna").decisions[0]
    table, forward = _table_and_forward()
    e = value_book(
        table, forward_usd=forward, valuation_ts_ms=NOW_MS, numeraire="usd", collateral_coin=[2.0]
    ).exposure
    assert d.vanna_coin_per_vol == pytest.approx(float(e.vanna_coin_per_vol[0]))
    assert d.volga_usd_per_volpt2 == pytest.approx(float(e.volga_usd_per_volpt2[0]))
    assert d.vanna_coin_per_vol != 0.0 and d.greeks["vanna_coin_per_vol"] == d.vanna_coin_per_vol


def _linear_hedge(index_usd: float, mark_usd: float) -> VenueSnapshot:
    """A Binance-like USDT account short 2 BTC from 60,000 (equity 105,800 with +5,800 of
    unrealised P&L inside it), read with its own index and mark, after the options venue."""
    perp = Instrument(
        VenueId("binance-a"), Symbol("BTC/USDT:USDT"), BTC, Currency("USDT"), Currency("USDT"),
        InstrumentKind.PERPETUAL, Settlement.LINEAR, AmountUnit.COIN, Currency("USDT"),
        0.1, 0.001, 0.001,
    )  # fmt: skip
    return VenueSnapshot(
        perp.venue, NOW_MS + 1, {perp.symbol: perp}, (Position(perp, -2.0, 60_000.0),),
        (Balance(Currency("USDT"), 105_800.0, 105_800.0, 0.0, 0.0, unrealised_pnl=5_800.0),),
        {perp.symbol: Mark(perp.symbol, mark_usd, mark_usd, NOW_MS + 1)}, {BTC: index_usd},
    )  # fmt: skip


def test_a_hedge_venue_read_across_a_jump_counts_at_the_options_venues_index() -> None:
    """The hedge venue read 8 % lower than the options venue: the decision's index is the
    options venue's 60,000 and the hedge's gain is at its mark moved to it (its basis kept),
    so the hedged book's equity does not jump for one cycle."""
    book = small_btc_book()
    skewed = dataclasses.replace(book, venues=(*book.venues, _linear_hedge(55_200.0, 55_227.6)))
    level = dataclasses.replace(book, venues=(*book.venues, _linear_hedge(60_000.0, 60_030.0)))
    [jumped], [calm] = (plan_cycle(p, _inputs(None), "c").decisions for p in (skewed, level))
    assert jumped.index_usd == calm.index_usd == 60_000.0
    assert jumped.linear_usd == pytest.approx(calm.linear_usd) == 100_000.0 - 2.0 * 30.0


def test_options_read_at_another_index_are_valued_moved_to_the_cycles() -> None:
    """Two options venues, the older read at 60,000 and the newer (whose index the cycle
    takes) at 61,200: the older's options count at their marks plus Black-76's change of
    value from their forward to 1.02 times it, at their mark vols."""
    book = _with_btc_balance(small_btc_book(), 0.2)
    [snap] = book.venues
    other = dataclasses.replace(
        snap, venue=VenueId("deribit-b"), ts_ms=NOW_MS + 1, balances=(),
        instruments={s: i for s, i in snap.instruments.items() if i.is_option},
        positions=tuple(dataclasses.replace(
            p, instrument=dataclasses.replace(p.instrument, venue=VenueId("deribit-b")),
        ) for p in snap.positions if p.instrument.is_option),
    )  # fmt: skip

    def equity_coin(index_usd: float) -> float:
        newer = dataclasses.replace(other, index_usd={BTC: index_usd})
        portfolio = dataclasses.replace(book, venues=(snap, newer))
        [decision] = plan_cycle(portfolio, _inputs(None), "c").decisions
        return decision.equity_coin

    table = PositionTable.from_snapshots([snap])
    opt = np.flatnonzero(table.kind == KindCode.OPTION)
    forward, tau = table.underlying_usd[opt], (table.expiry_ms[opt] - NOW_MS) / MS_PER_YEAR
    strike, call, vol = table.strike_usd[opt], table.is_call[opt], table.mark_iv[opt]
    coin = [black76(call, f, strike, tau, vol, 0.0).price / f for f in (forward, 1.02 * forward)]
    moved = float(np.sum(table.size[opt] * (coin[1] - coin[0])))
    assert equity_coin(61_200.0) - equity_coin(60_000.0) == pytest.approx(moved)
    assert abs(moved) > 1e-3
