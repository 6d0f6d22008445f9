"""Reconciliation: timeouts stay UNKNOWN, evidence moves orders, NOT_FOUND only after grace,
and the post-trade position check."""

from __future__ import annotations

import pytest

from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId
from bot.domain.instruments import AmountUnit, Instrument, InstrumentKind, OptionType, Settlement
from bot.domain.orders import Fill, OrderReport, OrderRequest, OrderState, Side, client_order_id
from bot.domain.reconcile import (
    OrderRecord,
    PositionCheck,
    VenueEvidence,
    external_changes,
    position_mismatches,
    reconcile,
    resolve,
)
from bot.domain.snapshot import Position, VenueSnapshot

S = OrderState
VENUE, SYMBOL = VenueId("deribit-a"), Symbol("BTC/USD:BTC")
CID = client_order_id("cycle-1", VENUE, SYMBOL, 0)
GRACE_MS = 30_000
WINDOW_MS = 300_000
PERP = Instrument(
    venue=VENUE,
    symbol=SYMBOL,
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


def record(state: OrderState, *, filled: float = 0.0, created_ts_ms: int = 0) -> OrderRecord:
    request = OrderRequest(CID, VENUE, SYMBOL, Side.BUY, 100.0, 60_000.0)
    return OrderRecord(request, state, "cycle-1/BTC", created_ts_ms, created_ts_ms, filled)


def report(state: OrderState, filled: float) -> OrderReport:
    return OrderReport(CID, "v-1", SYMBOL, state, filled, 60_000.0 if filled else None, 1)


def fill(trade_id: str, amount: float, cid: ClientOrderId | None = CID) -> Fill:
    return Fill(trade_id, cid, "v-1", SYMBOL, Side.BUY, amount, 60_000.0, 0.0, Currency("BTC"), 1)


def one(rec: OrderRecord, evidence: VenueEvidence, now_ms: int = 1_000) -> tuple[S, ...]:
    return resolve(
        rec, evidence, now_ms=now_ms, unknown_grace_ms=GRACE_MS, resolution_window_ms=WINDOW_MS
    ).steps


def test_timeout_becomes_unknown_never_rejected() -> None:
    """A SUBMITTED or PENDING order with no answer becomes UNKNOWN; UNKNOWN stays UNKNOWN
    for as long as its resolution window lasts."""
    assert one(record(S.SUBMITTED), VenueEvidence()) == (S.UNKNOWN,)
    assert one(record(S.PENDING), VenueEvidence()) == (S.UNKNOWN,)
    res = resolve(
        record(S.UNKNOWN),
        VenueEvidence(),
        now_ms=WINDOW_MS - 1,
        unknown_grace_ms=GRACE_MS,
        resolution_window_ms=WINDOW_MS,
    )
    assert (res.steps, res.reason, res.timed_out) == ((), "no venue evidence", False)


@pytest.mark.parametrize("state", [S.PENDING, S.SUBMITTED, S.UNKNOWN])
def test_no_evidence_past_the_resolution_window_is_not_found(state: OrderState) -> None:
    """An order whose every lookup failed is given up as NOT_FOUND (through UNKNOWN) once its
    resolution window is over, flagged for an alert: no intent stays UNKNOWN for ever."""
    res = resolve(
        record(state),
        VenueEvidence(),
        now_ms=WINDOW_MS,
        unknown_grace_ms=GRACE_MS,
        resolution_window_ms=WINDOW_MS,
    )
    assert res.steps[-1] is S.NOT_FOUND and res.timed_out
    assert S.UNKNOWN in (state, *res.steps[:-1])
    assert "resolution window" in res.reason


def test_an_accepted_order_is_never_given_up_for_want_of_evidence() -> None:
    """The venue has acknowledged an ACCEPTED or PARTIAL order: the window does not apply."""
    for state in (S.ACCEPTED, S.PARTIAL):
        res = resolve(
            record(state),
            VenueEvidence(),
            now_ms=10 * WINDOW_MS,
            unknown_grace_ms=GRACE_MS,
            resolution_window_ms=WINDOW_MS,
        )
        assert res.steps == () and not res.timed_out


def test_report_evidence_moves_unknown_on() -> None:
    """A venue report found by client id settles an UNKNOWN order: filled, canceled or partial."""
    assert one(record(S.UNKNOWN), VenueEvidence({CID: report(S.FILLED, 100.0)})) == (S.FILLED,)
    assert one(record(S.UNKNOWN), VenueEvidence({CID: report(S.CANCELED, 40.0)})) == (S.CANCELED,)
    assert one(record(S.UNKNOWN), VenueEvidence({CID: report(S.ACCEPTED, 40.0)})) == (S.PARTIAL,)


def test_fill_evidence_alone_moves_unknown_on() -> None:
    """Trades alone: the full amount is FILLED, less is PARTIAL; a repeated trade counts once."""
    full = VenueEvidence(fills=(fill("t1", 60.0), fill("t2", 40.0), fill("t2", 40.0)))
    part = VenueEvidence(fills=(fill("t1", 60.0), fill("t1", 60.0)))
    res = resolve(
        record(S.UNKNOWN), full, now_ms=0, unknown_grace_ms=GRACE_MS, resolution_window_ms=WINDOW_MS
    )
    assert (res.steps, res.filled_amount) == ((S.FILLED,), 100.0)
    assert one(record(S.UNKNOWN), part) == (S.PARTIAL,)


def test_fill_matched_by_venue_order_id_without_client_id() -> None:
    """A trade that only carries the venue order id is matched through the report."""
    evidence = VenueEvidence({CID: report(S.ACCEPTED, 0.0)}, fills=(fill("t1", 100.0, None),))
    assert one(record(S.UNKNOWN), evidence) == (S.FILLED,)


def test_pending_with_evidence_passes_through_unknown() -> None:
    """A PENDING order (crash around the send) found filled is recorded UNKNOWN then FILLED."""
    evidence = VenueEvidence({CID: report(S.FILLED, 100.0)})
    assert one(record(S.PENDING), evidence) == (S.UNKNOWN, S.FILLED)


def test_not_found_only_after_the_grace_period() -> None:
    """'No such order' within the grace leaves UNKNOWN; after it, NOT_FOUND."""
    evidence = VenueEvidence(not_found=frozenset({CID}))
    rec = record(S.UNKNOWN, created_ts_ms=1_000)
    assert one(rec, evidence, now_ms=1_000 + GRACE_MS - 1) == ()
    assert one(rec, evidence, now_ms=1_000 + GRACE_MS) == (S.NOT_FOUND,)
    assert one(record(S.SUBMITTED), evidence, now_ms=GRACE_MS) == (S.UNKNOWN, S.NOT_FOUND)


def test_failed_lookup_is_not_not_found() -> None:
    """After the grace, an id absent from not_found (lookup failed) stays UNKNOWN while its
    resolution window lasts."""
    assert one(record(S.UNKNOWN), VenueEvidence(), now_ms=WINDOW_MS - 1) == ()


def test_stale_report_cannot_move_an_order_back() -> None:
    """A lagging ACCEPTED report for a PARTIAL order changes nothing and says so."""
    res = resolve(
        record(S.PARTIAL, filled=40.0),
        VenueEvidence({CID: report(S.ACCEPTED, 0.0)}),
        now_ms=0,
        unknown_grace_ms=GRACE_MS,
        resolution_window_ms=WINDOW_MS,
    )
    assert res.steps == ()
    assert res.filled_amount == 40.0


def test_accepted_order_the_venue_forgot_is_a_conflict() -> None:
    """An ACCEPTED order later 'not found' is left as is and flagged, not moved."""
    rec = record(S.ACCEPTED)
    res = resolve(
        rec,
        VenueEvidence(not_found=frozenset({CID})),
        now_ms=GRACE_MS,
        unknown_grace_ms=0,
        resolution_window_ms=WINDOW_MS,
    )
    assert res.steps == () and res.reason.startswith("conflict")


def test_reconcile_never_proposes_a_send_and_covers_every_record() -> None:
    """One resolution per record, each only a list of states."""
    out = reconcile(
        [record(S.UNKNOWN), record(S.SUBMITTED)],
        VenueEvidence(),
        now_ms=0,
        unknown_grace_ms=GRACE_MS,
        resolution_window_ms=WINDOW_MS,
    )
    assert [r.steps for r in out] == [(), (S.UNKNOWN,)]


def test_position_moved_as_fills_say() -> None:
    """+100 USD of fills and a +100 USD position change: no mismatch."""
    check = PositionCheck(PERP, -300.0, -200.0, (fill("t1", 60.0), fill("t2", 40.0)))
    assert position_mismatches([check]) == ()


def test_position_mismatch_is_reported_for_the_underlying() -> None:
    """Fills say +100 USD but the position moved +50: mismatch on BTC."""
    (mismatch,) = position_mismatches([PositionCheck(PERP, 0.0, 50.0, (fill("t1", 100.0),))])
    assert (mismatch.underlying, mismatch.expected_change, mismatch.observed_change) == (
        Currency("BTC"),
        100.0,
        50.0,
    )
    assert "position moved 50 usd, journaled fills say 100 usd" in mismatch.detail


def test_unreadable_position_is_a_mismatch() -> None:
    """An unknown position read is not flat: it is reported."""
    (mismatch,) = position_mismatches([PositionCheck(PERP, 0.0, None)])
    assert mismatch.observed_change is None and "unreadable" in mismatch.detail


def test_bad_tolerance_is_refused() -> None:
    """A negative tolerance is refused."""
    with pytest.raises(ValueError, match="tolerance_lots"):
        position_mismatches([], tolerance_lots=-1)


def test_external_changes_skip_what_we_traded_and_what_expired() -> None:
    """Between two reads a perp that moved by more than our fills is an external change; one
    with an order still open (busy), one our fills explain and an option that expired in
    between are not."""
    option = Instrument(
        venue=VENUE, symbol=Symbol("BTC-1DEC26-60000-C"), underlying=Currency("BTC"),
        quote=Currency("USD"), settle=Currency("BTC"), kind=InstrumentKind.OPTION,
        settlement=Settlement.INVERSE, amount_unit=AmountUnit.COIN, price_currency=Currency("BTC"),
        tick_size=0.0001, lot_size=0.1, min_size=0.1, expiry_ms=1_500,
        strike_usd=60_000.0, option_type=OptionType.CALL,
    )  # fmt: skip

    def read(ts_ms: int, *positions: Position) -> VenueSnapshot:
        return VenueSnapshot(VENUE, ts_ms, {}, positions, (), {}, {})

    before = read(1_000, Position(PERP, -60_000.0), Position(option, 2.0))
    after = read(2_000, Position(PERP, -75_000.0))
    ours = (
        Fill("t1", CID, "v-1", SYMBOL, Side.SELL, 5_000.0, 60_000.0, 0.0, Currency("BTC"), 1_500),
    )
    [moved] = external_changes(before, after, ours, busy=frozenset())
    assert (moved.symbol, moved.expected_change, moved.observed_change) == (
        SYMBOL,
        -5_000.0,
        -15_000.0,
    )
    assert external_changes(before, after, ours, busy=frozenset({SYMBOL})) == ()
    assert external_changes(before, read(2_000, Position(PERP, -65_000.0)), ours, ()) == ()
