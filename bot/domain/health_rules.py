"""The judgements behind each health component: pure functions of values, one per concern.

The engine gathers the values (the last cycle, the journal's locks and UNKNOWN
orders, the venues' margin) and these turn them into :class:`Component`
verdicts, so every transition is testable with plain numbers. Component names
are stable because alerts key on them: ``trading``, ``last_cycle``,
``inputs``, ``venue_clocks``, ``venues``, ``band:<UNDERLYING>``, ``locks``,
``unknown_orders``, ``margin:<VENUE>`` and ``risk_gate``.

What lasts (an underlying outside its band and not worked, a gate denying
everything) is counted in :class:`HealthMemory`, a value the scheduler's
latest read carries from one planned cycle to the next.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from bot.domain.greek_limits import LimitCheck, LimitLevel
from bot.domain.health import Component, Level
from bot.domain.ids import Currency, VenueId
from bot.domain.trading_state import TradingMode, TradingState


class BandState(StrEnum):
    INSIDE = "inside"
    """The strategy asks for no order and none is in flight."""
    WORKED = "worked"
    """Outside its band, and an order was sent this cycle or is still in flight."""
    NOT_WORKED = "not worked"
    """Outside its band (or unhedgeable: no usable route) and nothing sent or in flight."""


@dataclass(frozen=True, slots=True)
class BandView:
    """One routed underlying as a cycle left it; ``why`` says how it is (not) being worked."""

    underlying: Currency
    state: BandState
    total_delta_coin: float
    """Book plus hedge (positions and orders in flight), coin."""
    target_delta_coin: float
    change_coin: float
    """The hedge change the strategy asked for this cycle, coin (0: hold)."""
    why: str = ""


@dataclass(frozen=True, slots=True)
class HealthMemory:
    """What health carries from one planned cycle to the next: the last band views and gate
    denials, and the runs of lasting trouble (per underlying outside its band and not worked;
    of a gate that denied every order)."""

    bands: tuple[BandView, ...] = ()
    band_cycles: Mapping[Currency, int] = field(default_factory=lambda: MappingProxyType({}))
    denials: tuple[str, ...] = ()
    gate_cycles: int = 0

    def after(
        self, bands: Sequence[BandView], denials: Sequence[str], gate_denied_all: bool
    ) -> HealthMemory:
        """Moved on by one planned cycle (a run breaks when its trouble does)."""
        cycles = {
            b.underlying: self.band_cycles.get(b.underlying, 0) + 1
            for b in bands
            if b.state is BandState.NOT_WORKED
        }
        return HealthMemory(
            tuple(bands),
            MappingProxyType(cycles),
            tuple(dict.fromkeys(denials)),
            self.gate_cycles + 1 if gate_denied_all else 0,
        )


def trading(state: TradingState) -> Component:
    """Halted fails (no hedging at all); reducing only degrades (hedges may still shrink)."""
    why = f"{state.mode.value} by {state.set_by.value}: {state.reason}"
    if state.mode is TradingMode.HALTED:
        return Component("trading", Level.FAILING, why)
    if state.mode is TradingMode.REDUCING:
        return Component("trading", Level.DEGRADED, why)
    return Component("trading", Level.OK, "active")


def last_cycle(
    age_s: float | None, error: str | None, duration_s: float, limit_s: float
) -> Component:
    """The newest cycle ran (``age_s`` None: none has), succeeded, and is at most ``limit_s``
    old."""
    if age_s is None:
        return Component("last_cycle", Level.FAILING, "no cycle has run yet")
    if error is not None:
        return Component("last_cycle", Level.FAILING, f"failed: {error}")
    if age_s > limit_s:
        return Component(
            "last_cycle", Level.FAILING, f"{age_s:.1f} s ago (more than {limit_s:g} s)"
        )
    return Component("last_cycle", Level.OK, f"{age_s:.1f} s ago, took {duration_s:.3f} s")


def inputs(stale: str | None) -> Component:
    """The last plan's oldest input was within the age limit (``stale``: why it was not)."""
    if stale is not None:
        return Component("inputs", Level.FAILING, f"stale inputs: {stale}")
    return Component("inputs", Level.OK, "fresh")


def streams(silent_s: Mapping[VenueId, float], streaming: int) -> Component:
    """The venue streams are live (``silent_s``: the ones silent past their limit, in wall
    seconds). A stale stream is stale input: degraded, not failing, since the timer's REST
    cycles still hedge; ``streaming`` is how many venues stream."""
    if silent_s:
        quiet = ", ".join(f"{v} silent {s:.0f} s" for v, s in sorted(silent_s.items()))
        return Component("streams", Level.DEGRADED, f"stale stream(s), polling only: {quiet}")
    return Component("streams", Level.OK, f"{streaming} venue stream(s) live")


def venue_clocks(skews: Sequence[str]) -> Component:
    """Every venue clock within the skew limit (``skews``: the ones beyond it, explained)."""
    if skews:
        return Component("venue_clocks", Level.FAILING, "; ".join(skews))
    return Component("venue_clocks", Level.OK, "venue clocks within the limit")


def venues(read: bool | None, read_error: str | None, count: int) -> Component:
    """Every venue was readable in the last cycle (``read`` None: no cycle has read yet).

    ``read_error`` is the reader's own message, which names each unreadable
    venue and why (or the book that vanished unexplained).
    """
    if read_error is not None:
        return Component("venues", Level.FAILING, read_error)
    if not read:
        return Component("venues", Level.FAILING, "not read yet")
    return Component("venues", Level.OK, f"all {count} read in the last cycle")


def band(view: BandView, cycles: int, failing_cycles: int) -> Component:
    """Inside its band is ok; outside but worked degrades; not worked degrades, then fails
    once it has lasted ``failing_cycles`` cycles in a row (``cycles`` so far)."""
    name = f"band:{view.underlying}"
    where = (
        f"total {view.total_delta_coin:+.4f} coin vs target {view.target_delta_coin:+g}"
        f"{'' if view.change_coin == 0 else f', strategy asks {view.change_coin:+.4f}'}"
    )
    if view.state is BandState.INSIDE:
        return Component(name, Level.OK, f"inside its band: {where}")
    if view.state is BandState.WORKED:
        return Component(
            name, Level.DEGRADED, f"outside its band, being worked ({view.why}): {where}"
        )
    level = Level.FAILING if cycles >= failing_cycles else Level.DEGRADED
    runs = f"{cycles} cycle{'s' if cycles != 1 else ''}"
    return Component(name, level, f"outside its band, not worked for {runs} ({view.why}): {where}")


def greeks(underlying: Currency, checks: Sequence[LimitCheck]) -> Component:
    """``greeks:<U>``: every ``[greek_limits]`` limit of the underlying inside is ok; past a
    soft or a hard limit degrades (an alert; a hard breach also makes an option hedge due).
    Never failing: the daemon still hedges delta, which is what /health answers for."""
    name = f"greeks:{underlying}"
    past = [c for c in checks if c.level is not LimitLevel.INSIDE]
    if not past:
        return Component(name, Level.OK, "inside every greek limit")
    hard = any(c.level is LimitLevel.HARD for c in past)
    why = "; ".join(f"{c.view.bucket}: {c.why}" for c in past)
    return Component(name, Level.DEGRADED, f"{'option hedge due: ' if hard else ''}{why}")


def locks(locked: Mapping[Currency, str]) -> Component:
    """Fails while any underlying is locked (no hedging of it until an operator resumes)."""
    if locked:
        why = "; ".join(f"{u} locked: {reason}" for u, reason in sorted(locked.items()))
        return Component("locks", Level.FAILING, why)
    return Component("locks", Level.OK, "no underlying locked")


def unknown_orders(ages_s: Mapping[str, float], window_s: float) -> Component:
    """Fails when an order has been UNKNOWN longer than ``window_s`` (reconciliation should
    have settled it by then); younger ones are the reconciler's normal work."""
    late = sorted(((age, cid) for cid, age in ages_s.items() if age > window_s), reverse=True)
    if late:
        shown = ", ".join(f"{cid} ({age:.0f} s)" for age, cid in late[:3])
        more = f" and {len(late) - 3} more" if len(late) > 3 else ""
        return Component(
            "unknown_orders",
            Level.FAILING,
            f"{len(late)} order(s) UNKNOWN longer than {window_s:g} s: {shown}{more}",
        )
    if ages_s:
        return Component(
            "unknown_orders", Level.OK, f"{len(ages_s)} UNKNOWN, within {window_s:g} s"
        )
    return Component("unknown_orders", Level.OK, "none")


def margin(
    venue: str, mm_per_equity: Mapping[str, float], floor: float, near_frac: float
) -> Component:
    """The venue's weakest account (``mm_per_equity``: maintenance margin / equity per
    ``account/currency``, as ``/status`` shows it): equity / MM below ``floor`` fails, within
    ``near_frac`` above it degrades."""
    name = f"margin:{venue}"
    used = {k: r for k, r in mm_per_equity.items() if r > 0}
    if not used:
        return Component(name, Level.OK, "no maintenance margin used")
    account, ratio = max(used.items(), key=lambda kv: kv[1])
    cover = 1 / ratio  # equity / MM: 0 when the equity is gone
    what = f"{account} equity/MM {cover:.2f}"
    if cover < floor:
        return Component(name, Level.FAILING, f"{what}, below the floor {floor:g}")
    if cover < floor * (1 + near_frac):
        return Component(name, Level.DEGRADED, f"{what}, near the floor {floor:g}")
    return Component(name, Level.OK, f"{what} (floor {floor:g})")


def risk_gate(cycles: int, reasons: Sequence[str], failing_cycles: int) -> Component:
    """Fails once the gate has denied every order for ``failing_cycles`` cycles in a row
    (``cycles`` so far); a shorter run degrades. ``reasons`` are the last denials."""
    if cycles == 0:
        return Component("risk_gate", Level.OK, "not denying everything")
    level = Level.FAILING if cycles >= failing_cycles else Level.DEGRADED
    runs = f"{cycles} cycle{'s' if cycles != 1 else ''}"
    why = "; ".join(reasons) or "no reason recorded"
    return Component("risk_gate", level, f"denied every order for {runs}: {why}")
