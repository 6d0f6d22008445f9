"""Each health component's ok / degraded / failing transitions, judged from plain values."""

from __future__ import annotations

import math

from bot.domain import health_rules as rules
from bot.domain.health import Level
from bot.domain.health_rules import BandState, BandView, HealthMemory
from bot.domain.ids import Currency, VenueId
from bot.domain.trading_state import SetBy, TradingMode, TradingState

BTC = Currency("BTC")


def view(state: BandState, why: str = "") -> BandView:
    return BandView(BTC, state, 170.0, 0.0, -170.0 if state is not BandState.INSIDE else 0.0, why)


class TestBand:
    def test_inside_is_ok(self) -> None:
        """An underlying the strategy holds is ok and shows its total against the target."""
        c = rules.band(view(BandState.INSIDE), 0, 3)
        assert (c.name, c.level) == ("band:BTC", Level.OK)
        assert "total +170.0000 coin vs target +0" in c.reason

    def test_worked_degrades(self) -> None:
        """Outside the band with an order sent degrades and says how it is worked."""
        c = rules.band(view(BandState.WORKED, "1 order(s) sent"), 0, 3)
        assert c.level is Level.DEGRADED and "being worked (1 order(s) sent)" in c.reason

    def test_not_worked_degrades_then_fails(self) -> None:
        """Not worked degrades below the cycle threshold and fails at it, with the reason."""
        denied = view(BandState.NOT_WORKED, "hourly notional cap: 1000 USD used")
        assert rules.band(denied, 2, 3).level is Level.DEGRADED
        failing = rules.band(denied, 3, 3)
        assert failing.level is Level.FAILING
        assert "not worked for 3 cycles (hourly notional cap" in failing.reason


class TestHealthMemory:
    def test_band_runs_count_and_break(self) -> None:
        """A run of not-worked cycles grows per underlying and breaks once it is worked."""
        memory = HealthMemory()
        for _ in range(2):
            memory = memory.after([view(BandState.NOT_WORKED)], [], False)
        assert memory.band_cycles == {BTC: 2}
        assert memory.after([view(BandState.WORKED)], [], False).band_cycles == {}

    def test_gate_runs_count_and_break(self) -> None:
        """Cycles whose every order was denied count up; one that approves resets the run."""
        memory = HealthMemory().after([], ["a", "a", "b"], True).after([], ["a"], True)
        assert (memory.gate_cycles, memory.denials) == (2, ("a",))
        assert memory.after([], [], False).gate_cycles == 0


class TestRiskGate:
    def test_transitions(self) -> None:
        """No run is ok, a short run degrades, a long one fails naming the denials."""
        assert rules.risk_gate(0, [], 2).level is Level.OK
        assert rules.risk_gate(1, ["hourly notional cap: x"], 2).level is Level.DEGRADED
        failing = rules.risk_gate(2, ["hourly notional cap: x"], 2)
        assert failing.level is Level.FAILING and "hourly notional cap: x" in failing.reason


class TestMargin:
    def test_transitions_against_the_floor(self) -> None:
        """Equity/MM 3 is ok, 1.6 near a 1.5 floor degrades, 1.2 fails, no margin is ok."""
        judge = rules.margin
        assert judge("a", {"main/BTC": 1 / 3}, 1.5, 0.2).level is Level.OK
        assert judge("a", {"main/BTC": 1 / 1.6}, 1.5, 0.2).level is Level.DEGRADED
        failing = judge("a", {"main/BTC": 1 / 3, "sub/ETH": 1 / 1.2}, 1.5, 0.2)
        assert (failing.name, failing.level) == ("margin:a", Level.FAILING)
        assert "sub/ETH equity/MM 1.20, below the floor 1.5" in failing.reason
        assert judge("a", {"main/BTC": 0.0}, 1.5, 0.2).level is Level.OK

    def test_no_equity_fails(self) -> None:
        """Margin used with no equity left (ratio inf) is below any floor."""
        assert rules.margin("a", {"main/BTC": math.inf}, 1.5, 0.2).level is Level.FAILING


class TestJournalComponents:
    def test_locks(self) -> None:
        """A locked underlying fails, named with its reason; none is ok."""
        assert rules.locks({}).level is Level.OK
        c = rules.locks({BTC: "position moved 90,000 USD"})
        assert c.level is Level.FAILING and c.reason == "BTC locked: position moved 90,000 USD"

    def test_unknown_orders(self) -> None:
        """UNKNOWN within its window is ok; past it fails, naming the order and its age."""
        assert rules.unknown_orders({}, 300).level is Level.OK
        assert rules.unknown_orders({"c1": 100.0}, 300).level is Level.OK
        c = rules.unknown_orders({"c1": 100.0, "c2": 400.0}, 300)
        assert c.level is Level.FAILING and "c2 (400 s)" in c.reason and "c1" not in c.reason

    def test_trading(self) -> None:
        """Active is ok, reducing degrades, halted fails."""
        levels = [
            rules.trading(TradingState(mode, "why", SetBy.OPERATOR, 1)).level
            for mode in (TradingMode.ACTIVE, TradingMode.REDUCING, TradingMode.HALTED)
        ]
        assert levels == [Level.OK, Level.DEGRADED, Level.FAILING]


class TestVenues:
    def test_transitions(self) -> None:
        """A read is ok; an unreadable venue fails with the reader's words; no read fails."""
        assert rules.venues(True, None, 2).level is Level.OK
        c = rules.venues(False, "venue sim-b unreadable: NetworkError: down", 2)
        assert c.level is Level.FAILING and "sim-b" in c.reason
        assert rules.venues(None, None, 2).level is Level.FAILING


class TestStreams:
    def test_live_streams_are_ok(self) -> None:
        """No stream silent past its limit: ok, with how many stream."""
        c = rules.streams({}, 2)
        assert (c.name, c.level, c.reason) == ("streams", Level.OK, "2 venue stream(s) live")

    def test_a_silent_stream_is_stale_input_degraded(self) -> None:
        """A stream silent past its limit degrades (the timer still hedges) and names it."""
        c = rules.streams({VenueId("deribit-a"): 42.0}, 1)
        assert c.level is Level.DEGRADED
        assert "deribit-a silent 42 s" in c.reason
