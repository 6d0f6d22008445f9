"""Stress grid and named scenarios by hand: perps, short options, defaults, freezes, cascades."""

from __future__ import annotations

import math
import tomllib
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from bot.config.margin import MarginConfig
from bot.config.stress import StressConfig, margin_setup
from bot.domain.exposure import value_book
from bot.domain.margin import portfolio_margin, standard_margin
from bot.domain.margin.liquidation import MarginModel
from bot.domain.margin.standard import StandardParams
from bot.domain.position_table import NO_EXPIRY_MS, KindCode, PositionTable
from bot.domain.revalue import revalue
from bot.domain.stress import (
    NO_VENUE,
    LightParams,
    MarginSetup,
    cascade,
    crash,
    custom,
    evaluate,
    grid_of,
    light_pass,
    liquidation_distance,
    prepare,
    stress_grid,
    venue_default,
    withdrawal_freeze,
)
from bot.domain.stress.kernel import subset
from bot.domain.timeunits import MS_PER_DAY
from bot.pricing import coin_settled

T0_MS = 1_700_000_000_000
F = 60_000.0
NO_SIZE_FACTOR = MarginSetup(standard=StandardParams(size_factor={}))


def _table(rows: list[dict[str, Any]], venues: tuple[str, ...] = ("a",)) -> PositionTable:
    """Rows of {venue, kind, size, inverse, call, strike, days, vol, und}; BTC F, ETH 3,000."""
    kind = np.array([r.get("kind", KindCode.PERPETUAL) for r in rows], dtype=np.int8)
    opt = kind == KindCode.OPTION
    inverse = np.array([r.get("inverse", True) for r in rows])
    return PositionTable.from_arrays(
        underlyings=["BTC", "ETH"],
        underlying_idx=[r.get("und", 0) for r in rows],
        venues=venues,
        venue_idx=[venues.index(str(r.get("venue", venues[0]))) for r in rows],
        kind=kind,
        size=[r["size"] for r in rows],
        is_inverse=inverse,
        amount_is_usd=inverse & ~opt,
        is_call=opt & np.array([r.get("call", True) for r in rows]),
        strike_usd=np.where(opt, [r.get("strike", F) for r in rows], np.nan),
        expiry_ms=np.where(
            (kind == KindCode.PERPETUAL) | (kind == KindCode.SPOT),
            NO_EXPIRY_MS,
            [T0_MS + int(r.get("days", 30)) * MS_PER_DAY for r in rows],
        ),
        mark_iv=np.where(opt, [r.get("vol", 0.6) for r in rows], np.nan),
        index_usd=[F, 3_000.0],
    )


def _fwd(table: PositionTable) -> np.ndarray:
    return np.where(table.underlying_idx == 0, F, 3_000.0)


def test_inverse_perp_pnl_at_minus_50_is_size_times_inverse_difference() -> None:
    """Long 10,000 USD inverse perp at 50,000, −50 %: size·(1/F0 − 1/F1) coin × F1 = −5,000 USD."""
    table = PositionTable.from_arrays(
        underlyings=["BTC"],
        underlying_idx=[0],
        kind=[KindCode.PERPETUAL],
        size=[10_000.0],
        is_inverse=True,
        amount_is_usd=True,
        index_usd=[50_000.0],
    )
    grid = stress_grid(
        table,
        forward_usd=50_000.0,
        valuation_ts_ms=T0_MS,
        equity_coin=0.0,
        price_moves_frac=[-0.5, 0.0, 0.1],
    )
    f0, f1 = 50_000.0, 25_000.0
    assert grid.pnl_usd[0, 0] == pytest.approx(10_000 * (1 / f0 - 1 / f1) * f1)
    assert grid.pnl_usd[0, 0] == pytest.approx(-5_000.0)
    # revalue's worked example: +10 % with 1 BTC of equity gains 6,000 USD.
    g2 = stress_grid(
        table, forward_usd=50_000.0, valuation_ts_ms=T0_MS, equity_coin=1.0, price_moves_frac=[0.1]
    )
    assert g2.pnl_usd[0, 0] == pytest.approx(6_000.0)


def test_grid_worked_example_short_perp_without_collateral() -> None:
    """Grid docstring: short 30,000 USD inverse perp at 60,000: ±15,000 USD at ∓50 %."""
    table = _table([{"size": -30_000.0}])
    grid = stress_grid(
        table, forward_usd=F, valuation_ts_ms=T0_MS, equity_coin=0.0, price_moves_frac=[-0.5, 0.5]
    )
    assert grid.pnl_usd[:, 0] == pytest.approx([15_000.0, -15_000.0])


def test_kernel_worked_example_short_call_margin() -> None:
    """Short 1 ATM call, 30 days, 60 %, 1 BTC equity: MM 0.14354 BTC = 8,612.4 USD, equity 60k."""
    table = _table([{"kind": KindCode.OPTION, "size": -1.0}])
    grid = stress_grid(
        table, forward_usd=F, valuation_ts_ms=T0_MS, equity_coin=[[1.0, 0.0]], price_moves_frac=[0]
    )
    assert grid.maintenance_usd[0, 0, 0] == pytest.approx(0.14354 * F, rel=1e-4)
    assert grid.equity_usd[0, 0, 0] == pytest.approx(F)


def test_inverse_perp_margin_follows_the_price_worked_example() -> None:
    """1,500,000 USD perp at 60,000 (25 BTC): MM 0.28125 BTC now, 0.1328125 BTC at +100 %."""
    grid = stress_grid(
        _table([{"size": 1_500_000.0}]),
        forward_usd=F,
        valuation_ts_ms=T0_MS,
        equity_coin=0.0,
        price_moves_frac=[0.0, 1.0],
    )
    assert grid.maintenance_usd[:, 0, 0] == pytest.approx([0.28125 * F, 0.1328125 * 2 * F])


def test_one_instrument_on_several_venues_is_priced_once_and_summed_per_venue() -> None:
    """Short puts on one instrument (venue a twice, b once) are one price row; P&L, MM scale."""
    put = {"kind": KindCode.OPTION, "call": False, "strike": 55_000.0}
    rows = [{**put, "size": -1.0}, {**put, "size": -2.0}, {**put, "size": -1.0, "venue": "b"}]
    table = _table(rows, venues=("a", "b"))
    kw: dict[str, Any] = {"forward_usd": F, "valuation_ts_ms": T0_MS, "equity_coin": 0.0}
    book = prepare(table, **kw)
    one = _table([{**put, "size": -1.0}])
    grid = grid_of(book, [-0.4, 0.0, 0.3], (0.0, 1.0), vol_relative=True)
    single = stress_grid(one, price_moves_frac=[-0.4, 0.0, 0.3], vol_shifts=(0.0, 1.0), **kw)
    assert book.options.ln_fk.size == 1
    assert np.allclose(grid.venue_pnl_usd, single.venue_pnl_usd * [3.0, 1.0], rtol=1e-12)
    assert np.allclose(grid.maintenance_usd, single.maintenance_usd * [3.0, 1.0], rtol=1e-12)


def test_zero_cell_is_zero_pnl() -> None:
    """The unmoved cell (price 0, vol shift 0) of a mixed book has zero P&L on every venue."""
    table = _table(
        [
            {"kind": KindCode.OPTION, "size": -3.0, "venue": "a"},
            {"kind": KindCode.OPTION, "size": 2.0, "call": False, "strike": 50_000.0, "venue": "b"},
            {"kind": KindCode.OPTION, "size": 5.0, "inverse": False, "und": 1, "strike": 3_200.0},
            {"size": -90_000.0, "venue": "b"},
            {"kind": KindCode.FUTURE, "size": 2.0, "inverse": False, "days": 60, "und": 1},
        ],
        venues=("a", "b"),
    )
    grid = stress_grid(
        table,
        forward_usd=_fwd(table),
        valuation_ts_ms=T0_MS,
        equity_coin=[[2.0, 10.0], [1.0, 0.0]],
        equity_usd=[5_000.0, 0.0],
        price_moves_frac=np.linspace(-0.5, 0.5, 41),
        vol_shifts=np.linspace(-0.5, 1.5, 21),
    )
    i = int(np.argmin(np.abs(grid.price_moves_frac)))
    j = int(np.argmin(np.abs(grid.vol_shifts)))
    assert grid.price_moves_frac[i] == 0 and grid.vol_shifts[j] == 0
    assert np.abs(grid.venue_pnl_usd[i, j]).max() < 1e-6
    assert grid.pnl_usd.shape == (41, 21)


def test_grid_margin_at_zero_cell_matches_standard_and_portfolio_margin() -> None:
    """MM at the zero cell equals standard_margin (venue a) and portfolio_margin (venue b), USD."""
    table = _table(
        [
            {"kind": KindCode.OPTION, "size": -3.0, "venue": "a"},
            {"kind": KindCode.OPTION, "size": -2.0, "call": False, "strike": 50_000.0},
            {"kind": KindCode.OPTION, "size": -4.0, "inverse": False, "und": 1, "strike": 3_200.0},
            {"kind": KindCode.FUTURE, "size": 2.0, "inverse": False, "days": 60, "und": 1},
            {"size": -90_000.0, "venue": "a"},
            {"kind": KindCode.OPTION, "size": -1.0, "venue": "b"},
        ],
        venues=("a", "b"),
    )
    setup = MarginSetup(venue_models={"b": MarginModel.PORTFOLIO})
    grid = stress_grid(
        table,
        forward_usd=_fwd(table),
        valuation_ts_ms=T0_MS,
        equity_coin=1.0,
        price_moves_frac=[0.0],
        margin=setup,
    )
    idx = np.array([F, 3_000.0])
    sm = standard_margin(table, forward_usd=_fwd(table), valuation_ts_ms=T0_MS)
    pm = portfolio_margin(table, forward_usd=_fwd(table), valuation_ts_ms=T0_MS).margin
    assert grid.maintenance_usd[0, 0, 0] == pytest.approx(
        (sm.maintenance_coin[0] * idx).sum() + sm.maintenance_usd[0].sum()
    )
    assert grid.maintenance_usd[0, 0, 1] == pytest.approx((pm.maintenance_coin[1] * idx).sum())


def test_crash_with_vol_doubled_loses_more_on_a_short_option_book() -> None:
    """Short puts and calls: the −50 % crash with vol ×2 loses more than with vol unchanged."""
    table = _table(
        [
            {"kind": KindCode.OPTION, "size": -5.0, "call": False, "strike": 30_000.0},
            {"kind": KindCode.OPTION, "size": -5.0, "strike": 60_000.0},
        ]
    )
    book = prepare(table, forward_usd=_fwd(table), valuation_ts_ms=T0_MS, equity_coin=100.0)
    doubled = crash(book, -0.5, 2.0)
    flat = crash(book, -0.5, 1.0)
    assert doubled.pnl_usd < flat.pnl_usd < 0
    assert doubled.liquidated == () and doubled.name.startswith("crash -50%")


def test_venue_default_loses_its_equity_and_leaves_the_other_delta() -> None:
    """A defaults: loss = A's equity exactly; B (1 BTC, short 30k USD perp) keeps +0.5 BTC delta."""
    table = _table(
        [
            {"kind": KindCode.OPTION, "size": -2.0, "venue": "a"},
            {"size": -30_000.0, "venue": "b"},
        ],
        venues=("a", "b"),
    )
    book = prepare(
        table,
        forward_usd=_fwd(table),
        valuation_ts_ms=T0_MS,
        equity_coin={"a": {"BTC": 3.0}, "b": {"BTC": 1.0}},
        equity_usd={"a": 1_000.0},
    )
    res = venue_default(book, "a")
    assert res.pnl_usd == pytest.approx(-(3.0 * F + 1_000.0))
    assert res.venue_pnl_usd == {"a": pytest.approx(-(3.0 * F + 1_000.0)), "b": 0.0}
    assert res.lost == ("a",)
    assert res.delta_coin["BTC"] == pytest.approx(0.5, abs=1e-6)
    moved = venue_default(book, "a", then_move_frac=0.1)
    assert moved.steps[0].pnl_usd == res.pnl_usd
    # B is long 0.5 BTC of USD delta: a 10 % fall is the adverse move, 0.5·6,000 = 3,000 USD.
    assert moved.pnl_usd == pytest.approx(res.pnl_usd - 3_000.0, rel=1e-3)


def test_remaining_delta_matches_exposure_usd_numeraire() -> None:
    """Zero-move scenario: delta = value_book (usd), equity including option marks."""
    table = _table(
        [
            {"kind": KindCode.OPTION, "size": -5.0, "strike": 65_000.0},
            {"kind": KindCode.OPTION, "size": 3.0, "call": False, "strike": 55_000.0, "days": 90},
            {"size": -300_000.0},
        ]
    )
    marks = coin_settled(table.is_call[:2], F, table.strike_usd[:2], [30 / 365, 90 / 365], 0.6)
    equity = 10.0 + float((table.size[:2] * marks.price_coin).sum())
    book = prepare(table, forward_usd=F, valuation_ts_ms=T0_MS, equity_coin=[[equity, 0.0]])
    spec = StressConfig.model_validate({"scenarios": [{"name": "now"}]}).scenarios[0]
    res = custom(book, spec.scenario(book.underlyings))
    exp = value_book(
        table, forward_usd=F, valuation_ts_ms=T0_MS, numeraire="usd", collateral_coin=[equity, 0.0]
    ).exposure
    assert res.pnl_usd == pytest.approx(0.0, abs=1e-6)
    assert res.delta_coin["BTC"] == pytest.approx(float(exp.delta_coin[0]), abs=1e-5)


def test_freeze_moves_k_sigma_sqrt_days_and_reports_the_frozen_venue() -> None:
    """k = 3, σ = 60 %, 7 days: ±24.93 %; a thin frozen short-perp venue goes on the rise."""
    assert 3 * 0.6 * math.sqrt(7 / 365) == pytest.approx(0.24927, abs=1e-5)
    table = _table(
        [{"size": -120_000.0, "venue": "a"}, {"size": 30_000.0, "venue": "b"}], venues=("a", "b")
    )
    book = prepare(
        table, forward_usd=F, valuation_ts_ms=T0_MS, equity_coin=[[0.3, 0.0], [1.0, 0.0]]
    )
    res = withdrawal_freeze(book, "a", days=7, sigmas=3, annual_vol_frac=[0.6, 0.9])
    move = 3 * np.array([0.6, 0.9]) * math.sqrt(7 / 365)
    down, up = res.steps
    assert down.price_move_frac["BTC"] == pytest.approx(-move[0])
    assert up.price_move_frac["ETH"] == pytest.approx(move[1])
    assert res.liquidated == ("a",) and "a is liquidated" in res.notes[0]
    # Freezing b instead: b holds; a cannot be topped up from the frozen b, so it still goes.
    other = withdrawal_freeze(book, "b", days=7, sigmas=3, annual_vol_frac=0.6)
    assert "b holds alone" in other.notes[0] and other.steps[1].lost == ("a",)


def test_cascade_liquidates_the_hedge_venue_first_then_moves_against_the_book() -> None:
    """Step 1 loses H's equity at m; step 2 is the worse of (1+m)(1±f), as custom scenarios say."""
    table = _table(
        [
            {"kind": KindCode.OPTION, "size": -10.0, "venue": "opt"},
            {"size": -200_000.0, "venue": "hedge"},
        ],
        venues=("opt", "hedge"),
    )
    book = prepare(
        table, forward_usd=F, valuation_ts_ms=T0_MS, equity_coin=[[5.0, 0.0], [2.0, 0.0]]
    )
    res = cascade(book, "hedge", move_frac=0.3, further_move_frac=0.1)
    first, second = res.steps
    assert first.lost == ("hedge",) and first.venue_pnl_usd["hedge"] == pytest.approx(-2.0 * F)
    assert second.pnl_usd <= first.pnl_usd
    both = []
    for s in (-1, 1):
        spec = StressConfig.model_validate(
            {
                "scenarios": [
                    {
                        "name": "x",
                        "price_move_frac": 1.3 * (1 + s * 0.1) - 1,
                        "lost_venues": ["hedge"],
                    }
                ]
            }
        ).scenarios[0]
        both.append(custom(book, spec.scenario(book.underlyings)).pnl_usd)
    assert res.pnl_usd == pytest.approx(min(both))
    assert "holds at +30%" in res.notes[0]


def test_custom_scenario_from_a_toml_table() -> None:
    """[[stress.scenarios]] from TOML: BTC −20 %, ETH flat, vol +10 pts, venue b lost."""
    text = """
[[scenarios]]
name = "btc dump"
price_move_frac = { BTC = -0.2 }
vol_shift_frac = 0.1
lost_venues = ["b"]
"""
    cfg = StressConfig.model_validate(tomllib.loads(text))
    table = _table(
        [
            {"kind": KindCode.OPTION, "size": -3.0, "venue": "a"},
            {"kind": KindCode.OPTION, "size": -30.0, "venue": "a", "und": 1, "strike": 3_000.0},
            {"size": -60_000.0, "venue": "b"},
        ],
        venues=("a", "b"),
    )
    eq = [[4.0, 40.0], [2.0, 0.0]]
    book = prepare(table, forward_usd=_fwd(table), valuation_ts_ms=T0_MS, equity_coin=eq)
    res = custom(book, cfg.scenarios[0].scenario(book.underlyings))
    rv = revalue(
        table,
        forward_usd=_fwd(table),
        valuation_ts_ms=T0_MS,
        price_mult=[[0.8, 1.0]],
        vol_shift=0.1,
        equity_coin=eq,
    )
    assert res.venue_pnl_usd["a"] == pytest.approx(rv.venue_equity_usd[0, 0])
    assert res.venue_pnl_usd["b"] == pytest.approx(-2.0 * F)
    assert res.lost == ("b",) and res.name == "btc dump"


def _two_shorts() -> PositionTable:
    return _table(
        [{"size": -120_000.0, "venue": "a"}, {"size": -1_200_000.0, "venue": "b"}],
        venues=("a", "b"),
    )


def test_first_to_liquidate_is_the_first_crossing_not_the_deepest_breach() -> None:
    """a crosses MM at +32 %, b at +45 %; at +50 % b is deeper in breach, yet a is first."""
    table = _two_shorts()
    grid = stress_grid(
        table,
        forward_usd=F,
        valuation_ts_ms=T0_MS,
        equity_coin=[[0.5, 0.0], [6.345, 0.0]],
        price_moves_frac=np.linspace(-0.5, 0.5, 21),
        margin=NO_SIZE_FACTOR,
    )
    moves = grid.price_moves_frac
    row = {round(float(x), 2): i for i, x in enumerate(moves)}
    surplus = grid.equity_usd - grid.maintenance_usd
    assert surplus[row[0.5], 0, 1] < surplus[row[0.5], 0, 0] < 0  # b deeper at +50 %
    assert grid.first_venue(row[0.5], 0) == "a"
    assert grid.first_venue(row[0.35], 0) == "a"
    assert grid.first_venue(row[0.3], 0) is None
    assert (grid.first_liquidated[moves <= 0] == NO_VENUE).all()
    # Hand: 0.99·120,000 / (2 − 0.5) = 79,200, i.e. +32 %; liquidation_distance agrees.
    dist = liquidation_distance(
        table,
        forward_usd=F,
        valuation_ts_ms=T0_MS,
        equity_coin=[[0.5, 0.0], [6.345, 0.0]],
        annual_vol_frac=0.6,
        standard=StandardParams(size_factor={}),
    )
    assert dist.up_frac[0] == pytest.approx(0.32, abs=1e-6)


def test_light_pass_is_worst_of_grid_and_crash_with_liquidation_distances() -> None:
    """light_pass: worst loss = max(grid, crash); distances = liquidation_distance's."""
    table = _two_shorts()
    eq = [[0.5, 0.0], [6.345, 0.0]]
    params = LightParams(price_moves_frac=(-0.2, 0.0, 0.2), vol_shifts=(0.0, 1.0))
    out = light_pass(
        table,
        forward_usd=F,
        valuation_ts_ms=T0_MS,
        equity_coin=eq,
        annual_vol_frac=0.6,
        config=params,
        margin=NO_SIZE_FACTOR,
    )
    book = prepare(
        table, forward_usd=F, valuation_ts_ms=T0_MS, equity_coin=eq, margin=NO_SIZE_FACTOR
    )
    grid = grid_of(book, (-0.2, 0.0, 0.2), (0.0, 1.0), vol_relative=True)
    assert out.grid_worst_loss_usd == pytest.approx(grid.worst_loss_usd)
    assert out.worst_loss_usd == max(out.grid_worst_loss_usd, out.crash_loss_usd)
    assert out.distances()["a"][1] == pytest.approx(0.32, abs=1e-6)
    assert out.distances()["a"][0] == math.inf


def _mixed_two_venues() -> PositionTable:
    """Inverse and linear options, inverse and linear perps and spot on venues a and b."""
    opt = {"kind": KindCode.OPTION}
    return _table(
        [
            {**opt, "size": -3.0, "strike": 55_000.0, "call": False},
            {**opt, "size": 2.0, "strike": 65_000.0, "venue": "b"},
            {**opt, "size": -40.0, "strike": 3_200.0, "und": 1, "inverse": False},
            {**opt, "size": -5.0, "strike": 2_800.0, "und": 1, "call": False, "venue": "b"},
            {"size": 90_000.0},
            {"size": -6.0, "inverse": False, "venue": "b"},
            {"size": 12.0, "und": 1, "inverse": False, "kind": KindCode.FUTURE, "days": 60},
            {"size": 1.5, "kind": KindCode.SPOT, "inverse": False, "venue": "b"},
        ],
        venues=("a", "b"),
    )


@pytest.mark.parametrize("model_b", [MarginModel.STANDARD, MarginModel.PORTFOLIO])
def test_moves_per_venue_move_each_venue_alone(model_b: MarginModel) -> None:
    """Prepared with moves_per_venue, each venue's figures are the shared book's at its own move."""
    table = _mixed_two_venues()
    setup = MarginSetup(venue_models={"b": model_b})
    kw: dict[str, Any] = {
        "forward_usd": _fwd(table),
        "valuation_ts_ms": T0_MS,
        "equity_coin": [[2.0, 30.0], [1.0, 10.0]],
        "equity_usd": [5_000.0, 20_000.0],
        "margin": setup,
    }
    shared = prepare(table, **kw)
    apart = prepare(table, **kw, moves_per_venue=True)
    mult = np.array([[0.7, 1.2], [1.3, 0.9], [1.0, 1.0]])  # states × underlyings
    shift = np.array([[0.2, 0.0], [0.05, 0.1], [0.0, 0.0]])
    rel = np.array([[0.0, 0.5], [-0.2, 0.0], [0.0, 0.0]])
    # State r gives venue a the shared state r and venue b the shared state r + 1 (mod 3).
    nxt = [1, 2, 0]
    both = [np.hstack([a, a[nxt]]) for a in (mult, shift, rel)]
    got = evaluate(apart, *both)
    for r in range(3):
        for j, s in ((0, r), (1, nxt[r])):
            want = evaluate(shared, mult[s : s + 1], shift[s : s + 1], rel[s : s + 1])
            assert got.equity_usd[r, j] == pytest.approx(want.equity_usd[0, j], rel=1e-12)
            assert got.maintenance_usd[r, j] == pytest.approx(want.maintenance_usd[0, j], rel=1e-12)
    with pytest.raises(ValueError, match="states × move columns"):
        evaluate(apart, mult, shift, rel)


def test_a_venue_is_as_far_from_liquidation_with_other_venues_as_alone() -> None:
    """Each venue's distances in a two-venue table equal those of its positions alone."""
    table = _mixed_two_venues()
    equity = np.array([[0.9, 6.0], [0.3, 4.0]])
    kw: dict[str, Any] = {"valuation_ts_ms": T0_MS, "annual_vol_frac": [0.6, 0.8]}
    both = liquidation_distance(table, forward_usd=_fwd(table), equity_coin=equity, **kw)
    assert (np.isfinite(both.down_frac) | np.isfinite(both.up_frac)).all()  # each one breaches
    for j in range(2):
        rows = np.flatnonzero(table.venue_idx == j)
        alone_table = subset(table, rows)
        alone = liquidation_distance(
            alone_table,
            forward_usd=_fwd(alone_table),
            equity_coin=np.where(np.arange(2)[:, None] == j, equity, 0.0),
            **kw,
        )
        assert both.down_frac[j] == pytest.approx(alone.down_frac[j], rel=1e-9)
        assert both.up_frac[j] == pytest.approx(alone.up_frac[j], rel=1e-9)


def test_bad_inputs_raise_value_errors() -> None:
    """Unknown venues, moves <= −1 and unknown underlyings are refused with a ValueError."""
    table = _two_shorts()
    book = prepare(table, forward_usd=F, valuation_ts_ms=T0_MS, equity_coin=1.0)
    with pytest.raises(ValueError, match="unknown venue"):
        venue_default(book, "nope")
    with pytest.raises(ValueError, match="> -1"):
        crash(book, -1.0)
    with pytest.raises(ValueError, match="price moves"):
        grid_of(book, [-1.5], [0.0], vol_relative=True)
    cfg = StressConfig.model_validate(
        {"scenarios": [{"name": "x", "price_move_frac": {"SOL": 0.1}}]}
    )
    with pytest.raises(ValueError, match="SOL"):
        custom(book, cfg.scenarios[0].scenario(book.underlyings))


def test_stress_config_rejects_bad_ranges_and_maps_margin_models() -> None:
    """Inverted ranges fail at their key; margin_setup carries [margin] venue models over."""
    with pytest.raises(ValidationError, match="price_move_max_frac"):
        StressConfig(price_move_min_frac=0.2, price_move_max_frac=0.1)
    cfg = StressConfig()
    assert len(cfg.price_moves()) == 41 and len(cfg.vol_shifts()) == 21
    assert 0.0 in cfg.price_moves() and 0.0 in cfg.vol_shifts() and 1.0 in cfg.vol_shifts()
    setup = margin_setup(MarginConfig(venue_models={"pm": "portfolio"}))
    assert setup.model_for("pm") is MarginModel.PORTFOLIO
    assert setup.model_for("other") is MarginModel.STANDARD
