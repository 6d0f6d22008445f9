"""Strategy kernel API (docs/architecture.md §4): the state a strategy sees, the protocol it meets.

One call decides the hedge of many books at once: one element per underlying in
the live engine, one per Monte Carlo path in the backtester. Both build the same
:class:`HedgeState` and call the same kernel, which is what makes a backtest say
something about live trading. Kernels are pure numpy over frozen values: no I/O,
no clock (time arrives as ``time_since_hedge_s``), no state between calls.

"Don't trade" is spelled "return ``hedge_coin`` unchanged", so an element whose
inputs are unusable (NaN, inf, or outside the domain of the formula) keeps its
hedge: see :meth:`HedgeState.usable` and :func:`guarded_hedge`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Annotated, ClassVar, Final, Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field

from bot.pricing.arrays import FloatArray

StateField = Literal[
    "spot_usd",
    "net_delta_coin",
    "net_delta_fixed_vol_coin",
    "gamma_coin_per_usd",
    "vanna_coin_per_vol",
    "vega_usd_per_volpt",
    "theta_usd_per_day",
    "hedge_coin",
    "target_delta_coin",
    "sigma",
    "tau_years",
    "rate",
    "cost_frac",
    "time_since_hedge_s",
]
"""Name of a :class:`HedgeState` field, for declaring which fields a kernel reads."""

_POSITIVE: Final[frozenset[StateField]] = frozenset({"spot_usd", "sigma"})
_NON_NEGATIVE: Final[frozenset[StateField]] = frozenset({"tau_years", "cost_frac"})


@dataclass(frozen=True, slots=True)
class HedgeState:
    """Everything a strategy may look at, one element per book; arrays are read-only views.

    Every field is a float64 array and all share one shape. Deltas are in the
    hedge numeraire (docs/architecture.md §3): with a USD numeraire, coin collateral on a
    coin-margined account is part of ``net_delta_coin``.

    - ``spot_usd``: underlying price, USD per coin.
    - ``net_delta_coin``: book delta before the hedge (options, plus coin
      collateral when the numeraire is USD), coin.
    - ``net_delta_fixed_vol_coin``: the same delta recomputed with implied vols
      frozen at the last hedge, so a vol-only move can be told apart; equals
      ``net_delta_coin`` when not tracked.
    - ``gamma_coin_per_usd``: d net_delta / d spot, coin per USD of spot move.
    - ``vanna_coin_per_vol``: d net_delta / d vol, coin per 1.00 (100 points) of vol.
    - ``vega_usd_per_volpt``: d book value / d vol, USD per vol point (0.01).
    - ``theta_usd_per_day``: d book value / d calendar time, USD per day.
    - ``hedge_coin``: current hedge position (venue position plus in-flight), coin.
      Must be finite: it is what "don't trade" returns.
    - ``target_delta_coin``: desired total delta (book plus hedge), coin.
    - ``sigma``: volatility, fraction per year (0.6 = 60%).
    - ``tau_years``: time to the book's nearest or weighted expiry, years.
    - ``rate``: interest rate, fraction per year, continuous.
    - ``cost_frac``: proportional cost of trading the hedge (fee + half-spread +
      slippage), fraction of notional.
    - ``time_since_hedge_s``: seconds since this book was last hedged.
    """

    spot_usd: FloatArray
    net_delta_coin: FloatArray
    net_delta_fixed_vol_coin: FloatArray
    gamma_coin_per_usd: FloatArray
    vanna_coin_per_vol: FloatArray
    vega_usd_per_volpt: FloatArray
    theta_usd_per_day: FloatArray
    hedge_coin: FloatArray
    target_delta_coin: FloatArray
    sigma: FloatArray
    tau_years: FloatArray
    rate: FloatArray
    cost_frac: FloatArray
    time_since_hedge_s: FloatArray

    def __post_init__(self) -> None:
        shape = np.shape(self.spot_usd)
        for name in _FIELD_NAMES:
            _check_field(name, getattr(self, name), shape)
        _check_hedge(self.hedge_coin, shape)
        for name in _FIELD_NAMES:
            object.__setattr__(self, name, _read_only(getattr(self, name)))

    def for_hedge(self, hedge_coin: FloatArray, time_since_hedge_s: FloatArray) -> HedgeState:
        """This state with another hedge and time since it, checking only those two.

        A backtest calls several strategies on one step's book, each with its own hedge:
        the shared fields were checked when this state was built.
        """
        shape = self.shape
        _check_field("hedge_coin", hedge_coin, shape)
        _check_field("time_since_hedge_s", time_since_hedge_s, shape)
        _check_hedge(hedge_coin, shape)
        out = object.__new__(HedgeState)
        for name in _FIELD_NAMES:
            object.__setattr__(out, name, getattr(self, name))
        object.__setattr__(out, "hedge_coin", _read_only(hedge_coin))
        object.__setattr__(out, "time_since_hedge_s", _read_only(time_since_hedge_s))
        return out

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape shared by every field (one element per book)."""
        return self.spot_usd.shape

    @classmethod
    def from_arrays(
        cls,
        *,
        spot_usd: ArrayLike,
        net_delta_coin: ArrayLike,
        gamma_coin_per_usd: ArrayLike,
        hedge_coin: ArrayLike,
        sigma: ArrayLike,
        tau_years: ArrayLike,
        cost_frac: ArrayLike,
        time_since_hedge_s: ArrayLike,
        net_delta_fixed_vol_coin: ArrayLike | None = None,
        vanna_coin_per_vol: ArrayLike = 0.0,
        vega_usd_per_volpt: ArrayLike = 0.0,
        theta_usd_per_day: ArrayLike = 0.0,
        target_delta_coin: ArrayLike = 0.0,
        rate: ArrayLike = 0.0,
    ) -> HedgeState:
        """Build from arrays or scalars, broadcast to one shape and copied as float64.

        Defaults mean "not tracked": ``net_delta_fixed_vol_coin`` equals
        ``net_delta_coin``, vanna, vega and theta are 0, the target is delta-flat
        and the rate is 0.
        """
        given: dict[str, ArrayLike] = {
            "spot_usd": spot_usd,
            "net_delta_coin": net_delta_coin,
            "net_delta_fixed_vol_coin": (
                net_delta_coin if net_delta_fixed_vol_coin is None else net_delta_fixed_vol_coin
            ),
            "gamma_coin_per_usd": gamma_coin_per_usd,
            "vanna_coin_per_vol": vanna_coin_per_vol,
            "vega_usd_per_volpt": vega_usd_per_volpt,
            "theta_usd_per_day": theta_usd_per_day,
            "hedge_coin": hedge_coin,
            "target_delta_coin": target_delta_coin,
            "sigma": sigma,
            "tau_years": tau_years,
            "rate": rate,
            "cost_frac": cost_frac,
            "time_since_hedge_s": time_since_hedge_s,
        }
        raw = {name: np.asarray(value, dtype=np.float64) for name, value in given.items()}
        try:
            shape = np.broadcast_shapes(*(a.shape for a in raw.values()))
        except ValueError:
            shapes = ", ".join(f"{name} {a.shape}" for name, a in raw.items())
            raise ValueError(f"HedgeState fields do not broadcast to one shape: {shapes}") from None
        return cls(**{name: np.array(np.broadcast_to(a, shape)) for name, a in raw.items()})

    def usable(self, reads: Iterable[StateField]) -> NDArray[np.bool_]:
        """Elements whose fields in ``reads`` are finite and inside their domain.

        Domains: ``spot_usd`` and ``sigma`` > 0; ``tau_years`` and ``cost_frac`` >= 0.
        """
        ok = np.ones(self.shape, dtype=np.bool_)
        for name in reads:
            value = getattr(self, name)
            ok &= np.isfinite(value)
            if name in _POSITIVE:
                ok &= value > 0
            elif name in _NON_NEGATIVE:
                ok &= value >= 0
        return ok


_FIELD_NAMES: Final = tuple(f.name for f in fields(HedgeState))
""":class:`HedgeState`'s field names, looked up once: a backtest builds states each step."""


def _check_field(name: str, arr: object, shape: tuple[int, ...]) -> None:
    """A :class:`HedgeState` field must be a float64 array of the state's shape."""
    if not isinstance(arr, np.ndarray) or arr.dtype != np.float64:
        got = arr.dtype if isinstance(arr, np.ndarray) else type(arr).__name__
        raise TypeError(f"HedgeState.{name} must be a float64 numpy array, got {got}")
    if arr.shape != shape:
        raise ValueError(
            f"HedgeState.{name} has shape {arr.shape}, "
            f"but spot_usd has shape {shape}: all fields must share one shape"
        )


def _check_hedge(hedge_coin: FloatArray, shape: tuple[int, ...]) -> None:
    """The current hedge must be finite: keeping it is how a strategy says 'don't trade'."""
    if _all_finite(hedge_coin):  # the common case, in two reductions
        return
    bad = ~np.isfinite(hedge_coin)
    if bad.any():
        where = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), shape))
        raise ValueError(
            f"HedgeState.hedge_coin is not finite at index {where} "
            f"({int(bad.sum())} elements): the current hedge must be known, since keeping "
            "it is how a strategy says 'don't trade'"
        )


def _read_only(arr: FloatArray) -> FloatArray:
    view = arr.view()
    view.flags.writeable = False
    return view


class Strategy(Protocol):
    """A hedging kernel: immutable, stateless, built from its validated params.

    ``target_hedge`` returns the new hedge position per element, in coin, with
    the shape of the state; returning ``state.hedge_coin`` for an element means
    "don't trade". The engine turns ``target - (position + in-flight)`` into orders.
    """

    name: ClassVar[str]
    # Implementations declare ``Params: ClassVar[type[BaseModel]] = TheirParams``:
    # protocol class variables are invariant, so the narrower type would not match.
    Params: ClassVar[type[BaseModel]]

    def __init__(self, params: BaseModel) -> None: ...

    @property
    def params(self) -> BaseModel: ...

    def target_hedge(self, state: HedgeState) -> FloatArray: ...


@dataclass(frozen=True, slots=True)
class BandEdges:
    """A kernel's no-trade band on the total delta (book + hedge), coin, one element per book:
    it keeps the hedge while ``lower_coin <= total <= upper_coin``. Reports and charts show
    it, so a user sees what a cost-aware strategy's parameters mean in coin."""

    lower_coin: FloatArray
    upper_coin: FloatArray


@runtime_checkable
class BandedStrategy(Protocol):
    """A strategy that can say the band it trades against (optional: ``interval`` has none)."""

    def band(self, state: HedgeState) -> BandEdges: ...


@runtime_checkable
class ScheduledStrategy(Protocol):
    """A strategy that keeps every hedge for a while after a trade (optional: a band kernel
    reads delta at every step and has no such while).

    While ``time_since_hedge_s < due_after_s`` on every element, ``target_hedge`` returns
    ``hedge_coin`` whatever the rest of the state, so a caller whose books were all hedged
    at the same time (the backtester's paths) may keep the hedges without the call. The
    daemon calls every cycle and ignores it.
    """

    @property
    def due_after_s(self) -> float: ...


def due_after_s(strategy: object) -> float:
    """Seconds after a hedge before ``strategy`` may trade: its ``due_after_s``, or 0 (due at
    every step) for a strategy that does not say.

    Example: ``interval`` with ``interval_s = 3600`` is due 3600 s after its last hedge;
    ``band`` is due at once.
    """
    return strategy.due_after_s if isinstance(strategy, ScheduledStrategy) else 0.0


class StrategyParams(BaseModel):
    """Base of the built-in params: frozen, unknown keys rejected, NaN and inf rejected, strict
    types (``"0.5"`` or ``true`` is no width; an integer is a float)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, strict=True)


HedgeRatio = Annotated[
    float,
    Field(
        ge=0.0,
        le=1.5,
        description=(
            "Fraction of the correction to trade, dimensionless in [0, 1.5]: a re-hedge moves "
            "the hedge by hedge_ratio x (anchor - deviation), so 1 lands exactly on the anchor, "
            "< 1 under-hedges (0 never trades) and > 1 over-hedges past it. Default 1."
        ),
    ),
]

RiskAversion = Annotated[
    float,
    Field(
        gt=0.0,
        description=(
            "Absolute (CARA) risk aversion of the hedger, per USD of P&L, > 0. Larger values "
            "narrow the no-trade band. Required, no default: it depends on the book's size."
        ),
    ),
]


def deviation_coin(delta_coin: FloatArray, state: HedgeState) -> FloatArray:
    """Total delta (book plus current hedge) minus the target: what a hedge corrects."""
    return delta_coin + state.hedge_coin - state.target_delta_coin


def band_edges(
    state: HedgeState,
    delta_coin: FloatArray,
    width_up_coin: FloatArray | float,
    width_down_coin: FloatArray | float,
) -> BandEdges:
    """The band ``[-width_down, +width_up]`` on the deviation of ``delta_coin`` (the delta a
    kernel measures), moved onto the total delta ``net_delta_coin + hedge_coin``.

    The deviation is ``delta_coin + hedge - target``, so the total lies in the band when it
    is within the widths of ``target + net_delta_coin - delta_coin``. Example: target 0,
    net delta 10, a kernel measuring 9.5 (vols frozen), widths 1 up and 2 down: the band on
    the total is [-1.5, +1.5] coin.
    """
    centre_coin = state.target_delta_coin + state.net_delta_coin - delta_coin
    return BandEdges(
        np.asarray(centre_coin - width_down_coin, dtype=np.float64),
        np.asarray(centre_coin + width_up_coin, dtype=np.float64),
    )


def band_hedge(
    hedge_coin: FloatArray,
    deviation_coin: FloatArray,
    width_up_coin: FloatArray | float,
    width_down_coin: FloatArray | float,
    *,
    to_edge: bool,
    hedge_ratio: float,
) -> FloatArray:
    """New hedge for a no-trade band ``[-width_down_coin, +width_up_coin]`` around the target.

    Widths are >= 0, scalars or arrays of the deviation's shape. Inside the band
    (edges included) the hedge is returned bit for bit. Outside,
    the anchor is the nearest edge (``to_edge``) or the target itself, and the
    hedge moves by ``hedge_ratio * (anchor - deviation)``. Hedging to the edge
    trades the least and is optimal under proportional costs (Whalley & Wilmott
    1997); hedging to the centre buys more room before the next trade.

    Example: band [-1, +2] coin, deviation +5 coin, hedge 10 coin, ratio 1:
    to the edge the hedge becomes 10 - (5 - 2) = 7; to the centre 10 - 5 = 5.
    """
    lower_coin = np.negative(width_down_coin)
    if to_edge:
        excess = deviation_coin - np.clip(deviation_coin, lower_coin, width_up_coin)
        return hedge_coin - hedge_ratio * excess
    outside = (deviation_coin > width_up_coin) | (deviation_coin < lower_coin)
    return np.where(outside, hedge_coin - hedge_ratio * deviation_coin, hedge_coin)


def guarded_hedge(
    state: HedgeState, reads: Iterable[StateField], new_hedge_coin: FloatArray
) -> FloatArray:
    """``new_hedge_coin`` where the element's ``reads`` are usable and the result finite.

    Elsewhere the current hedge is kept, so bad data never becomes an order and
    an overflow never becomes a NaN position.
    """
    if _all_usable(state, reads, new_hedge_coin):  # the common case, in a pass per field
        return new_hedge_coin
    ok = state.usable(reads) & np.isfinite(new_hedge_coin)
    return np.where(ok, new_hedge_coin, state.hedge_coin)


def _all_usable(state: HedgeState, reads: Iterable[StateField], new_hedge_coin: FloatArray) -> bool:
    """True when every element is usable and finite (see :meth:`HedgeState.usable`), from
    each field's minimum and maximum (NaN propagates into both, inf shows in one)."""
    for name in reads:
        value = getattr(state, name)
        if not value.size:
            continue
        lowest = np.minimum.reduce(value, axis=None)
        if not (math.isfinite(lowest) and math.isfinite(np.maximum.reduce(value, axis=None))):
            return False
        if (name in _POSITIVE and not lowest > 0) or (name in _NON_NEGATIVE and not lowest >= 0):
            return False
    return _all_finite(new_hedge_coin)


def _all_finite(arr: FloatArray) -> bool:
    """No NaN or inf in ``arr``, in two reductions (NaN propagates into the minimum and the
    maximum; an infinity is one of them)."""
    if not arr.size:
        return True
    return math.isfinite(np.minimum.reduce(arr, axis=None)) and math.isfinite(
        np.maximum.reduce(arr, axis=None)
    )
