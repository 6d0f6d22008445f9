"""PositionTable: columns built from snapshots and arrays, and validation of bad input."""

from __future__ import annotations

import math
from dataclasses import fields, replace
from typing import Any

import numpy as np
import pytest

from bot.domain.exposure import value_book
from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.instruments import AmountUnit, Instrument, InstrumentKind, OptionType, Settlement
from bot.domain.position_table import NO_EXPIRY_MS, KindCode, PositionTable
from bot.domain.snapshot import Mark, Position, VenueSnapshot

EXPIRY_MS = 1_798_185_600_000  # 2026-12-25 08:00 UTC
DERIBIT = VenueId("deribit-main")
BYBIT = VenueId("bybit-main")


def _option(venue: VenueId, symbol: str, *, inverse: bool, kind: OptionType) -> Instrument:
    return Instrument(
        venue=venue,
        symbol=Symbol(symbol),
        underlying=Currency("BTC"),
        quote=Currency("USD" if inverse else "USDC"),
        settle=Currency("BTC" if inverse else "USDC"),
        kind=InstrumentKind.OPTION,
        settlement=Settlement.INVERSE if inverse else Settlement.LINEAR,
        amount_unit=AmountUnit.COIN,
        price_currency=Currency("BTC" if inverse else "USDC"),
        tick_size=0.0005 if inverse else 5.0,
        lot_size=0.1 if inverse else 0.01,
        min_size=0.1 if inverse else 0.01,
        expiry_ms=EXPIRY_MS,
        strike_usd=60_000.0,
        option_type=kind,
    )


PERP = Instrument(
    venue=DERIBIT,
    symbol=Symbol("BTC/USD:BTC"),
    underlying=Currency("BTC"),
    quote=Currency("USD"),
    settle=Currency("BTC"),
    kind=InstrumentKind.PERPETUAL,
    settlement=Settlement.INVERSE,
    amount_unit=AmountUnit.USD,
    price_currency=Currency("USD"),
    tick_size=0.5,
    lot_size=10.0,
    min_size=10.0,
)
COIN_CALL = _option(DERIBIT, "BTC/USD:BTC-261225-60000-C", inverse=True, kind=OptionType.CALL)
USDC_PUT = _option(BYBIT, "BTC/USDC:USDC-261225-60000-P", inverse=False, kind=OptionType.PUT)


def _deribit(ts_ms: int = 1_000, index: float = 60_000.0) -> VenueSnapshot:
    return VenueSnapshot(
        venue=DERIBIT,
        ts_ms=ts_ms,
        instruments={PERP.symbol: PERP, COIN_CALL.symbol: COIN_CALL},
        positions=(Position(PERP, -30_000.0), Position(COIN_CALL, 2.5)),
        balances=(),
        marks={
            PERP.symbol: Mark(PERP.symbol, 60_010.0, 60_000.0, ts_ms),
            COIN_CALL.symbol: Mark(COIN_CALL.symbol, 0.0685, 61_000.0, ts_ms, mark_iv=0.6),
        },
        index_usd={Currency("BTC"): index},
    )


def _bybit(ts_ms: int = 2_000, *, with_mark: bool = True) -> VenueSnapshot:
    marks = {USDC_PUT.symbol: Mark(USDC_PUT.symbol, 4_100.0, 61_000.0, ts_ms)} if with_mark else {}
    return VenueSnapshot(
        venue=BYBIT,
        ts_ms=ts_ms,
        instruments={USDC_PUT.symbol: USDC_PUT},
        positions=(Position(USDC_PUT, -1.0),),
        balances=(),
        marks=marks,
        index_usd={Currency("BTC"): 60_050.0},
    )


def _arrays(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "underlyings": ["BTC", "ETH"],
        "underlying_idx": [0, 1, 0],
        "kind": [KindCode.OPTION, KindCode.PERPETUAL, KindCode.SPOT],
        "size": [1.0, -3_000.0, 0.2],
        "is_inverse": [True, True, False],
        "amount_is_usd": [False, True, False],
        "is_call": [True, False, False],
        "strike_usd": [60_000.0, np.nan, np.nan],
        "expiry_ms": [EXPIRY_MS, NO_EXPIRY_MS, NO_EXPIRY_MS],
    }
    return base | overrides


def test_from_snapshots_keeps_venue_units_per_column() -> None:
    """Snapshot positions become columns in venue units, with codes, flags and mark fields."""
    table = PositionTable.from_snapshots([_deribit(), _bybit()])
    assert table.underlyings == ("BTC",)
    assert table.venues == (DERIBIT, BYBIT)
    assert table.symbols == (PERP.symbol, COIN_CALL.symbol, USDC_PUT.symbol)
    assert table.venue_idx.tolist() == [0, 0, 1]
    assert table.kind.tolist() == [KindCode.PERPETUAL, KindCode.OPTION, KindCode.OPTION]
    assert table.is_call.tolist() == [False, True, False]
    assert table.is_inverse.tolist() == [True, True, False]
    assert table.amount_is_usd.tolist() == [True, False, False]
    assert table.size.tolist() == [-30_000.0, 2.5, -1.0]
    assert table.expiry_ms.tolist() == [NO_EXPIRY_MS, EXPIRY_MS, EXPIRY_MS]
    assert table.mark_price.tolist() == [60_010.0, 0.0685, 4_100.0]
    assert table.underlying_usd.tolist() == [60_000.0, 61_000.0, 61_000.0]
    assert math.isnan(table.strike_usd[0]) and table.strike_usd[1] == 60_000.0
    assert table.mark_iv[1] == 0.6 and np.isnan(table.mark_iv[[0, 2]]).all()


def test_from_snapshots_takes_index_from_newest_snapshot() -> None:
    """When venues disagree on the index, the most recent read wins, whatever the order given."""
    older = _deribit(ts_ms=5_000, index=59_000.0)
    newer = _bybit(ts_ms=9_000)
    assert PositionTable.from_snapshots([newer, older]).index_usd.tolist() == [60_050.0]


def test_from_snapshots_takes_index_from_the_options_venue_over_a_newer_hedge_venue() -> None:
    """The options are valued at their own venue's forwards, so its index is the book's
    spot even when a venue holding no options was read later (its prices move to it)."""
    options = _deribit(ts_ms=5_000, index=59_000.0)
    hedge = replace(_bybit(ts_ms=9_000), positions=(), marks={})
    assert PositionTable.from_snapshots([options, hedge]).index_usd.tolist() == [59_000.0]
    assert PositionTable.from_snapshots([hedge], ["BTC"]).index_usd.tolist() == [60_050.0]


def test_with_index_venues_names_the_snapshot_each_index_came_from() -> None:
    """The plan dates its inputs by these: the options venue (place 0 of the snapshots) for
    BTC, whose index the table took, and −1 for a name no venue prices."""
    options = _deribit(ts_ms=5_000, index=59_000.0)
    hedge = replace(_bybit(ts_ms=9_000), positions=(), marks={})
    table, index_from = PositionTable.with_index_venues([options, hedge], ["ETH"])
    assert table.underlyings == ("BTC", "ETH") and index_from == [0, -1]
    assert table.index_usd.tolist()[0] == 59_000.0 and math.isnan(table.index_usd[1])


def test_from_snapshots_missing_mark_is_nan_not_zero() -> None:
    """A position without a mark keeps NaN prices so exposure can reject it by name."""
    table = PositionTable.from_snapshots([_bybit(with_mark=False)])
    assert np.isnan(table.underlying_usd).all() and np.isnan(table.mark_price).all()


def test_from_snapshots_missing_one_mark_of_several_keeps_the_others() -> None:
    """One venue missing one of its marks: that row is NaN, the others keep their own."""
    snap = _deribit()
    partial = replace(snap, marks={PERP.symbol: snap.marks[PERP.symbol]})
    for book in (snap, partial, snap):  # the memo's fetcher, with and without the gap
        table = PositionTable.from_snapshots([book, _bybit()])
        assert table.mark_price[0] == 60_010.0 and table.mark_price[2] == 4_100.0
        assert np.isnan(table.mark_price[1]) == (book is partial)


def test_from_snapshots_adds_requested_underlyings() -> None:
    """Extra underlyings (collateral without positions) appear, sorted, with NaN index."""
    table = PositionTable.from_snapshots([_deribit()], underlyings=["ETH", "BTC"])
    assert table.underlyings == ("BTC", "ETH")
    assert table.index_usd[0] == 60_000.0 and np.isnan(table.index_usd[1])


def test_from_snapshots_rejects_a_venue_twice() -> None:
    """Two snapshots of one venue would double count its positions."""
    with pytest.raises(ValueError, match="more than one snapshot"):
        PositionTable.from_snapshots([_deribit(), _deribit(ts_ms=2_000)])


def test_from_snapshots_empty_book() -> None:
    """No snapshots gives an empty, valid table."""
    table = PositionTable.from_snapshots([])
    assert len(table) == 0 and table.underlyings == () and table.size.dtype == np.float64


def test_from_arrays_broadcasts_scalars_and_copies() -> None:
    """Scalars fill every position; the table keeps its own copy of caller arrays."""
    size = np.array([1.0, -3_000.0, 0.2])
    table = PositionTable.from_arrays(**_arrays(size=size), mark_iv=0.5)
    size[0] = 99.0
    assert table.size[0] == 1.0
    assert table.mark_iv.tolist() == [0.5, 0.5, 0.5]
    assert table.venues == ("backtest",) and table.venue_idx.tolist() == [0, 0, 0]
    assert len(table) == 3 and table.label(1) == "position 1"


def test_columns_are_read_only() -> None:
    """A frozen table's arrays cannot be written in place."""
    table = PositionTable.from_arrays(**_arrays())
    with pytest.raises(ValueError, match="read-only"):
        table.size[0] = 2.0


def test_constructor_rejects_wrong_dtype() -> None:
    """Direct construction demands the exact column dtypes."""
    table = PositionTable.from_arrays(**_arrays())
    with pytest.raises(TypeError, match="size must have dtype float64"):
        replace(table, size=np.array([1, 2, 3]))


def test_constructor_rejects_ragged_columns() -> None:
    """All columns must have one element per position."""
    table = PositionTable.from_arrays(**_arrays())
    with pytest.raises(ValueError, match=r"mark_iv must be shape \(3,\)"):
        replace(table, mark_iv=np.zeros(2))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"underlying_idx": [0, 2, 0]}, r"underlying_idx\[1\] = 2 is outside \[0, 2\)"),
        ({"kind": [0, 7, 3]}, r"kind\[1\] = 7"),
        ({"strike_usd": [-1.0, np.nan, np.nan]}, "position 0: an option needs a positive"),
        ({"strike_usd": [60_000.0, 5.0, np.nan]}, "position 1: only options carry a strike"),
        ({"is_call": [True, True, False]}, "position 1: only options can be calls"),
        ({"expiry_ms": [NO_EXPIRY_MS] * 3}, "position 0: an option or future needs expiry_ms"),
        ({"expiry_ms": [EXPIRY_MS, 5, NO_EXPIRY_MS]}, "position 1: a perpetual or spot"),
        ({"amount_is_usd": [True, True, False]}, "position 0: USD-counted amounts"),
        ({"size": [1.0, np.inf, 0.2]}, "position 1: size is not finite"),
        ({"underlying_idx": [0, 1.5, 0]}, "underlying_idx holds values that are not exact"),
        ({"strike_usd": [1.0, 2.0]}, r"strike_usd has shape \(2,\), expected \(3,\)"),
        ({"underlyings": ["BTC", "BTC"]}, "underlyings has duplicate names"),
    ],
)
def test_from_arrays_rejects_bad_input(overrides: dict[str, object], message: str) -> None:
    """Inconsistent columns raise a ValueError naming the column or position."""
    with pytest.raises(ValueError, match=message):
        PositionTable.from_arrays(**_arrays(**overrides))


def test_rejects_bad_index_and_negative_iv() -> None:
    """Index prices must be positive (or NaN) and implied vols non-negative."""
    with pytest.raises(ValueError, match="index_usd must be positive"):
        PositionTable.from_arrays(**_arrays(), index_usd=[60_000.0, 0.0])
    table = PositionTable.from_arrays(**_arrays())
    with pytest.raises(ValueError, match="index_usd needs one price per underlying"):
        replace(table, index_usd=np.ones(3))
    with pytest.raises(TypeError, match="index_usd must be a 1-D float64 array"):
        replace(table, index_usd=[1.0, 2.0])
    with pytest.raises(ValueError, match="position 0: mark_iv is negative"):
        PositionTable.from_arrays(**_arrays(), mark_iv=[-0.1, 0.5, 0.5])


def test_labels_name_the_symbol_when_known() -> None:
    """Error labels carry the venue symbol so an operator can find the bad mark."""
    table = PositionTable.from_snapshots([_deribit()])
    assert table.label(1) == f"position 1 ({COIN_CALL.symbol})"


def test_from_snapshots_reuses_instrument_columns_only_for_the_same_instruments() -> None:
    """The same instrument objects reuse the memoised columns while sizes and marks follow
    the new read; a changed instrument is read afresh."""
    first = PositionTable.from_snapshots([_deribit(), _bybit()])
    snap = _deribit()
    moved = replace(snap, positions=tuple(replace(p, size=p.size * 2) for p in snap.positions))
    again = PositionTable.from_snapshots([moved, _bybit()])
    assert np.shares_memory(again.kind, first.kind)  # the static column came from the memo
    n = len(snap.positions)
    assert np.array_equal(again.size[:n], 2 * first.size[:n])
    relisted = replace(
        moved,
        positions=tuple(
            replace(p, instrument=replace(p.instrument, strike_usd=p.instrument.strike_usd + 1))
            if p.instrument.strike_usd is not None
            else p
            for p in moved.positions
        ),
    )
    fresh = PositionTable.from_snapshots([relisted, _bybit()])
    assert not np.shares_memory(fresh.kind, first.kind)
    options = fresh.kind[:n] == KindCode.OPTION
    assert np.array_equal(fresh.strike_usd[:n][options], first.strike_usd[:n][options] + 1)


def test_from_snapshots_reuses_instrument_columns_for_equal_instrument_copies() -> None:
    """Instruments read afresh but equal field for field (a re-listing of the same contracts)
    reuse the memoised columns: they depend on the instruments' values alone."""
    first = PositionTable.from_snapshots([_deribit(), _bybit()])
    snap = _deribit()
    copies = replace(snap, positions=tuple(replace(p, instrument=replace(p.instrument))
                                           for p in snap.positions))  # fmt: skip
    assert copies.positions[0].instrument is not snap.positions[0].instrument
    again = PositionTable.from_snapshots([copies, _bybit()])
    assert np.shares_memory(again.kind, first.kind)


class TestChecksOfMemoColumns:
    def test_a_cycle_on_checked_instrument_columns_still_checks_sizes_and_vols(self) -> None:
        """Reused instrument columns skip their own checks, not those of the read."""
        table = PositionTable.from_snapshots([_deribit(), _bybit()])
        PositionTable.from_snapshots([_deribit(), _bybit()])  # the memo's columns, checked
        with pytest.raises(ValueError, match="size is not finite"):
            replace(table, size=np.array([1.0, np.inf, 1.0]))
        with pytest.raises(ValueError, match="mark_iv is negative"):
            replace(table, mark_iv=np.array([np.nan, -0.1, np.nan]))

    def test_checked_columns_are_range_checked_again_against_other_names(self) -> None:
        """The memo's indices, checked against one underlying, are checked again against none."""
        table = PositionTable.from_snapshots([_deribit(), _bybit()])
        with pytest.raises(ValueError, match="underlying_idx"):
            replace(table, underlyings=(), index_usd=np.zeros(0))


class TestRowsOf:
    def test_finds_the_rows_of_the_wanted_symbols(self) -> None:
        """rows_of names every row holding one of the symbols, in table order."""
        table = PositionTable.from_snapshots([_deribit(), _bybit()])
        wanted = frozenset({PERP.symbol, USDC_PUT.symbol})
        assert table.rows_of(wanted).tolist() == [
            i for i, s in enumerate(table.symbols) if s in wanted
        ]

    def test_a_new_question_is_answered_afresh(self) -> None:
        """The memo answers the same book and symbols only: other symbols get their own rows."""
        table = PositionTable.from_snapshots([_deribit(), _bybit()])
        perp = table.rows_of(frozenset({PERP.symbol}))
        call = table.rows_of(frozenset({COIN_CALL.symbol}))
        assert [table.symbols[i] for i in perp] == [PERP.symbol]
        assert [table.symbols[i] for i in call] == [COIN_CALL.symbol]

    def test_a_symbol_not_held_has_no_rows(self) -> None:
        """A route on an instrument with no position finds no row, not an error."""
        table = PositionTable.from_snapshots([_deribit()])
        assert table.rows_of(frozenset({Symbol("ETH-PERPETUAL")})).size == 0


def _rows_view(table: PositionTable, stop: int) -> PositionTable:
    """The first ``stop`` positions as views of ``table``'s columns (no copy)."""
    per_row = [
        f.name for f in fields(table) if f.name not in ("underlyings", "venues", "index_usd")
    ]
    return replace(table, **{name: getattr(table, name)[:stop] for name in per_row})


class TestExpiryGroups:
    def test_names_each_pair_once_sorted_and_each_rows_pair(self) -> None:
        """Pairs sorted by underlying then expiry (perpetual first); rows point at theirs."""
        und, expiry_ms, row_group = PositionTable.from_snapshots(
            [_deribit(), _bybit()]
        ).expiry_groups()
        assert und.tolist() == [0, 0] and expiry_ms.tolist() == [NO_EXPIRY_MS, EXPIRY_MS]
        assert row_group.tolist() == [0, 1, 1]

    def test_tables_of_one_instrument_memo_share_one_sort(self) -> None:
        """A second read of the same instruments reuses the groups instead of sorting again."""
        first = PositionTable.from_snapshots([_deribit(), _bybit()]).expiry_groups()
        again = PositionTable.from_snapshots([_deribit(ts_ms=5_000), _bybit()]).expiry_groups()
        assert again is first

    def test_a_view_of_some_rows_is_grouped_afresh(self) -> None:
        """Two rows viewing the memo's columns get their own groups, not the memo's three."""
        table = PositionTable.from_snapshots([_deribit(), _bybit()])
        table.expiry_groups()
        _, expiry_ms, row_group = _rows_view(table, 1).expiry_groups()
        assert expiry_ms.tolist() == [NO_EXPIRY_MS] and row_group.tolist() == [0]

    def test_a_pair_with_no_live_row_has_no_exposure_bucket(self) -> None:
        """Closing the option's rows drops its expiry bucket though the memo's groups keep it."""
        snap = _deribit()
        closed = replace(snap, positions=(snap.positions[0], replace(snap.positions[1], size=0.0)))
        for book, expiries in ((snap, [NO_EXPIRY_MS, EXPIRY_MS]), (closed, [NO_EXPIRY_MS])):
            table = PositionTable.from_snapshots([book])
            buckets = value_book(
                table,
                forward_usd=table.forward_usd(),
                valuation_ts_ms=0,
                numeraire="coin",
                collateral_coin=np.zeros(1),
            ).exposure.buckets
            assert buckets.expiry_ms.tolist() == expiries
            assert buckets.underlying_idx.tolist() == [0] * len(expiries)
