"""Cross-venue collateral optimizer: one mixed-integer LP solved by HiGHS (``highspy``).

Variables: ``x_r >= 0`` coin sent on each usable route; ``y_r`` in {0, 1} for
each route with a fee or a minimum (the fee is paid once, the minimum
applies only if the route is used). Money is USD at the snapshot prices;
``E_i`` is account i's equity once the in-flight transfers land, and
``dE_i = sum(in: h_i p (x - fee y)) - sum(out: h_src p x)`` its change.

Constraints (F(i) = floor * MM, T(i) = target * MM, C(i) = ceiling * MM):

* below floor (``E_i < F``): ``E_i + dE_i >= T(i)`` (brought to target), ``dE_i >= 0``;
* otherwise: ``E_i + dE_i >= max(min(E_i, T(i)), min(E_i, IM_i))`` (donates only above
  its target and never below its initial margin);
* every account: ``E_i + dE_i <= max(E_i, C(i))`` (no move pushes one above its ceiling);
* withdrawable: per account and asset, ``sum(out x) - sum(sub-account in x) <= free``;
* route size: ``low y <= x <= upper y`` (``low = max(minimum, fee + 1 cent)``: a withdrawal
  that only paid its fee could not be sent, so the solver may not plan one);
* caps per venue v: ``E_v + dE_v + fees_v <= cap_usd`` and
  ``E_v + dE_v + fees_v <= share * (E + dE)``;
  a venue already above a cap must come down to it if it can, and may never grow.

``fees_v`` are the fees of the withdrawals out of and into venue v: caps count a fee as
still held by the account paying it and as already credited where it goes. A fee is a
loss, not a move; counted as gone, it would let the solver pay fees to no one to get a
venue under a cap (directly, or through a venue at its ceiling sending back what it
received). So a venue gets under a cap only by what really arrives elsewhere, and what
it really holds is never above what its cap row allowed. Floors and ceilings count
fees as paid.

Conservation is built in: every coin debited is credited elsewhere or paid as
the route's fee. Objective, USD over the horizon H against doing nothing:
``sum(fee p y) + sum(idle rate * H * p * (held at destination - held at source))
+ sum(trust penalty_v * dE_v) + 1e-7 * USD moved`` (the last term only breaks ties).

Hysteresis: nothing is solved unless an account is outside its band or a
venue above a cap. Caps are never relaxed beyond where a venue already is: a
floor that needs more than a cap allows is not met, and that venue goes
REDUCING instead (trading less there is the safe answer to a venue we trust
less). If the constraints cannot all hold, slacks are minimised in priority
order, each optimum fixed before the next (lexicographic): floor shortfalls,
then excess over caps that were already exceeded, then donors taken below
target (down to their floor), then targets of accounts below floor; the cost
comes last. Accounts still below floor are explained
(:mod:`bot.domain.collateral.explain`) and their venues go REDUCING. Sorted
inputs and a node limit (no time limit) make the plan a function of the
snapshot alone.

The MILP proper runs only when needed: the LP relaxation gives a lower bound
(solved by column generation over the routes that price out,
:mod:`bot.domain.collateral.columns`: the same LP, its bound proven from the duals),
fixing the routes it uses gives a plan, and a plan within ``accept_gap_usd``
of the bound, or ``accept_gap_frac`` of its size if that is more, is taken
(``PlanResult.gap_usd`` reports the distance). A rounding outside it is trimmed of
the routes it sends only their minimum on (:func:`_trimmed`). Otherwise branch and
bound runs over the routes the roundings opened (every other route closed: a few
dozen binaries, not thousands), started from the best rounding and stopping once
within that allowance; over every route only where no plan was found yet, or where a
floor's slack must be matched to an exact zero. Its plan stands even when outside the
allowance, with its proven gap reported: the whole model's search took 10-130 s at 50
venues (7 of 40 random feasible snapshots) and gained 0-15 USD. A relative gap, not a search to
optimality: the MILP was 95-98 % of the time at 20-50 venues, and the rounded LP plan
already lies within about 1 % of the bound there, so accepting it is what bounds the
time (issue 18). The same holds for each fallback stage (its unit is USD of slack),
except that when the relaxation says a slack can be zero, only an exact zero is
accepted: whether a floor can be met is always answered exactly. Each fallback stage
rounds its cheapest relaxed optimum first (:func:`_cheapest_rounding`): the plan whose
value the next stages are held to is then one the cost stage can round to as well.

Worked example (a test reproduces it): venue ``a`` has equity 100,000 USD and
MM 50,000 (ratio 2.0) with band 2.5 / 3.0 / 4.0: below its floor, its target
is 150,000. Venue ``b`` has equity 500,000, MM 100,000 (ratio 5.0, above its
ceiling 4.0), 300,000 USDC free, and a USDC withdrawal route to ``a`` with a
10 USDC fee and a 100 USDC minimum. Trust and idle costs are nil, USDC is 1 USD.
The cheapest plan sends 50,010 USDC: ``a`` is credited 50,000 and reaches
150,000 (ratio 3.0); ``b`` keeps 449,990 (ratio 4.4, nowhere better to go).
The cost is the 10 USD fee.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import astuple
from typing import Final

import numpy as np

from bot.domain.collateral.explain import explain_shortfalls
from bot.domain.collateral.frame import Frame, build_frame, tolerance_usd
from bot.domain.collateral.lp import DUST_USD, LpModel, Solved
from bot.domain.collateral.model import DEFAULT_SETTINGS, CollateralSnapshot, OptimizerSettings
from bot.domain.collateral.plan import (
    AccountOutcome,
    AccountStatus,
    CapBreach,
    PlanCost,
    PlannedTransfer,
    PlanResult,
    PlanStatus,
    TransferPlan,
    plan_id,
    transfer_id,
)
from bot.domain.ids import Currency
from bot.domain.orders import TransferKind

TRIMS: Final = 8
"""Most re-solves spent closing routes a rounded plan sends only their minimum on."""


def _plan_id(frame: Frame, settings: OptimizerSettings) -> str:
    """Hash of every input the plan depends on, in a fixed order (``repr`` of floats is exact).

    The hashed text is ``repr`` of the tuple below; the route list, most of the inputs,
    is there as the frame's digest of it (:attr:`Frame.routes_digest`).
    """
    snapshot = frame.snapshot

    def amounts(values: Mapping[Currency, float]) -> tuple[tuple[str, float], ...]:
        return tuple(sorted(values.items()))

    accounts = sorted(
        (
            str(a.account),
            a.equity_usd,
            a.initial_margin_usd,
            a.maintenance_margin_usd,
            (a.band.floor, a.band.target, a.band.ceiling),
            amounts(a.free_coin),
            amounts(a.haircut_frac),
            amounts(a.idle_cost_frac_per_year),
        )
        for a in snapshot.accounts
    )
    trust = [(v, astuple(t)) for v, t in snapshot.trust.items()]
    moving = sorted((str(t.destination), t.asset, t.amount_coin) for t in snapshot.in_flight)
    parts = (
        repr(snapshot.ts_ms),
        repr(amounts(snapshot.prices_usd)),
        repr(accounts),
        repr(trust),
        repr(frame.routes_digest),
        repr(moving),
        repr(astuple(settings)),
    )
    return plan_id(f"({', '.join(parts)})")


def _best(
    lp: LpModel,
    objective: np.ndarray,
    relaxed: bool,
    settings: OptimizerSettings,
    *,
    zero_tol: float | None = None,
    incumbent: np.ndarray | None = None,
) -> tuple[Solved, float] | None:
    """The best plan found and its proven gap (objective minus the LP bound); None: infeasible.

    The LP relaxation gives the bound; fixing every route it uses (``y = 1``) and
    re-solving gives a plan. Within the allowance of the bound it stands;
    otherwise the MILP runs under the node limit over the routes the roundings opened,
    and over all routes only if no plan was found yet (or a zero slack must be matched
    exactly); the cheapest plan wins and its distance to the bound is reported. The allowance is
    :meth:`OptimizerSettings.accepted_gap_usd` of the bound, and each MILP stops at
    that absolute gap or the same relative one: for the cost and, in the fallback, for
    each slack stage (at 50 venues a stage's branch and bound took 30-90 s). With
    ``zero_tol`` (a slack stage), a bound of zero is only matched by an exact zero:
    whether a floor can be met at all is never left to rounding. ``incumbent``
    (the routes of the previous stage's plan, which meets every fixed optimum so
    far) is the second rounding tried. In a slack stage the rounding of the relaxation's
    cheapest optimum comes first (:func:`_cheapest_rounding`).
    """
    bound = lp.solve(objective, relaxed=relaxed, mode="lp")
    if bound is None:
        return None  # the relaxation is infeasible, so is every integer plan
    allowance = settings.accepted_gap_usd(bound.objective)
    exact_zero = zero_tol is not None and bound.objective <= zero_tol

    def close(plans: list[Solved]) -> bool:
        best = min(plans, key=lambda s: s.objective).objective
        if zero_tol is not None and exact_zero:
            return best <= zero_tol  # "can it be met at all?" must be exact
        return best - bound.objective <= allowance

    patterns = [lp.used(bound.x)]
    if incumbent is not None:
        patterns += [incumbent, np.maximum(patterns[0], incumbent)]
    found = _roundings(
        lp, objective, relaxed, patterns, close, bound=bound, steer_tol=zero_tol, settings=settings
    )
    if not (found and close(found)):
        # Branch and bound over the routes either rounding opened first (a few dozen
        # binaries instead of thousands: its plan is one of the whole model's), then over
        # every route only if no plan was found yet, or a zero slack must be answered exactly
        # (the whole model's search ran 10-130 s at 50 venues, on 7 of 40 feasible
        # snapshots, to gain 0-15 USD); each stops within the allowance of its own bound.
        union = np.maximum.reduce(patterns)
        for mode in ("sub-mip", "mip"):
            plan = lp.solve(
                objective,
                relaxed=relaxed,
                mode=mode,
                fixed=union if mode == "sub-mip" else None,
                node_limit=settings.node_limit,
                rel_gap=settings.accept_gap_frac,
                abs_gap_usd=None if exact_zero else allowance,
                start=_within(lp, min(found, key=lambda s: s.objective, default=None), union, mode),
            )
            found += [] if plan is None else [plan]
            if found and (close(found) or not exact_zero):
                break
    if not found:
        return None
    best = min(found, key=lambda s: s.objective)
    return best, max(0.0, best.objective - bound.objective)


def _roundings(
    lp: LpModel,
    objective: np.ndarray,
    relaxed: bool,
    patterns: list[np.ndarray],
    close: Callable[[list[Solved]], bool],
    *,
    bound: Solved,
    steer_tol: float | None,
    settings: OptimizerSettings,
) -> list[Solved]:
    """The plans of ``patterns`` rounded in turn until one is ``close``; with ``steer_tol``
    (a slack stage's tolerance) the relaxation's cheapest optimum is rounded first, with
    the first pattern (the bare optimum's routes: :func:`_cheapest_rounding`)."""
    found: list[Solved] = []
    if steer_tol is not None:
        found = _cheapest_rounding(
            lp, objective, relaxed, bound, close, tol=steer_tol, margin_usd=settings.accept_gap_usd
        )
        patterns = patterns[1:]
    for pattern in patterns:
        if found and close(found):
            break
        found += _rounded(lp, objective, relaxed, pattern, close)
    return found


def _cheapest_rounding(
    lp: LpModel,
    objective: np.ndarray,
    relaxed: bool,
    bound: Solved,
    close: Callable[[list[Solved]], bool],
    *,
    tol: float,
    margin_usd: float,
) -> list[Solved]:
    """The rounding of the slack stage's cheapest relaxed optimum, if it is ``close`` to the
    bound and within ``margin_usd`` of the bare optimum's rounding; otherwise both.

    The relaxed optimum of a slack stage is far from unique (below floor, accounts are
    much alike for a shortfall) and HiGHS's vertex ignores the cost. Once a stage's
    rounding fixed its optimum (within ``tol``), later stages could round only to plans
    paying no more fees into those rows, and a cheaper relaxed plan's routes rarely do: its
    fractional routes share one fee, a rounding pays each. So the cost stage's roundings
    broke the fixed optima and it fell to branch and bound, 1-2 s at 50 venues with floors
    unreachable (issue 18). Rounded instead from the stage's optimum that costs least (cost
    minimised with the stage's objective held at its relaxed optimum, within ``tol`` as a
    fixed stage is), each stage's plan uses the routes the next stages' relaxations lean
    to, and the cost stage's rounding of the previous plan is within its allowance: at 50
    venues 10 of 40 unreachable-floor snapshots reached branch and bound instead of 29.
    ``margin_usd`` (the settings' absolute allowance) keeps the stage's own value: the
    cheaper routes are taken only if their plan is within it of the bare rounding's.

    Example (the bench's 50 venues, floors unreachable, seed 0): the cost stage's bound is
    109 USD; the last stage's plan, rounded from HiGHS's vertex, costs 1,330 USD there, so
    branch and bound ran (1.6 s, to 119 USD). Rounded from each stage's cheapest optimum,
    the cost stage rounds the last stage's routes to a plan 9.6 USD above its bound.
    """
    bare = _rounded(lp, objective, relaxed, lp.used(bound.x), close)
    lp.stage_rows.append((objective, float(objective @ bound.x) + tol))
    try:
        cheapest = lp.solve(lp.cost, relaxed=relaxed, mode="lp")
    finally:
        lp.stage_rows.pop()
    if cheapest is None:
        return bare
    steered = _rounded(lp, objective, relaxed, lp.used(cheapest.x), close)
    if steered and close(steered):
        best = min(s.objective for s in steered)
        if not bare or best <= min(s.objective for s in bare) + margin_usd:
            return steered
    return [*bare, *steered]


def _within(lp: LpModel, plan: Solved | None, union: np.ndarray, mode: str) -> np.ndarray | None:
    """``plan``'s point if branch and bound in ``mode`` can start from it: always over
    every route, over the opened ``union`` only if it opens no other route."""
    if plan is None:
        return None
    if mode == "sub-mip" and np.any(lp.used(plan.x) > union):
        return None
    return plan.x


def _rounded(
    lp: LpModel,
    objective: np.ndarray,
    relaxed: bool,
    pattern: np.ndarray,
    close: Callable[[list[Solved]], bool],
) -> list[Solved]:
    """The plan with every route of ``pattern`` open; if not ``close`` to the bound, also
    that plan trimmed (:func:`_trimmed`). Empty if no plan opens exactly those routes."""
    fixed = lp.solve(objective, relaxed=relaxed, mode="fixed", fixed=pattern)
    if fixed is None:
        return []
    if close([fixed]):
        return [fixed]
    return [fixed, _trimmed(lp, objective, relaxed, fixed, pattern)]


def _trimmed(
    lp: LpModel, objective: np.ndarray, relaxed: bool, plan: Solved, pattern: np.ndarray
) -> Solved:
    """``plan`` with the routes it sends only their minimum on closed, while that is cheaper.

    Fixing every route the LP used open forces each one's minimum through it, and pays its
    fee, even where the LP sent a sliver; a route left at its minimum is usually one the
    plan does not need. Each try is one solve over the opened routes (a few ms); at most
    :data:`TRIMS` of them, a count (the plan must not depend on machine load). At 50 venues
    this took a rounding from 137 USD above the bound to 98, inside the 104 USD allowance,
    where branch and bound then took 36 s (issue 18).
    """
    lower_usd = lp.link_usd[0]
    for _ in range(TRIMS):
        sent = plan.x[lp.binary]
        at_min = (pattern > 0.5) & (sent <= lower_usd * (1.0 + 1e-9) + DUST_USD)
        if not at_min.any():
            break
        fewer = np.where(at_min, 0.0, pattern)
        tried = lp.solve(objective, relaxed=relaxed, mode="fixed", fixed=fewer)
        if tried is None or tried.objective >= plan.objective:
            break
        plan, pattern = tried, fewer
    return plan


def _solve(lp: LpModel, settings: OptimizerSettings) -> tuple[Solved, float, bool]:
    """The cheapest plan meeting every constraint, else the lexicographic fallback."""
    hard = _best(lp, lp.cost, False, settings)
    if hard is not None:
        return hard[0], hard[1], False
    tol = 1e-3 * tolerance_usd(lp.frame.total0_usd)  # far below what counts as a shortfall
    stages = [g for g in lp.groups() if np.any(lp.slack_upper[g] > 0)]
    pattern: np.ndarray | None = None
    for group in [*stages, None]:
        weights = lp.cost if group is None else np.zeros(lp.n_cols)
        if group is not None:
            weights[group] = 1.0
        zero = None if group is None else tol
        found = _best(lp, weights, True, settings, zero_tol=zero, incumbent=pattern)
        for _ in range(3):  # a fixed optimum can be infeasible by the solver's round-off
            if found is not None:
                break
            lp.stage_rows = [(w, limit + 10 * tol) for w, limit in lp.stage_rows]
            found = _best(lp, weights, True, settings, zero_tol=zero, incumbent=pattern)
        if found is None:
            raise RuntimeError("collateral optimizer: HiGHS found no plan for a relaxed stage")
        if group is not None:
            lp.stage_rows.append((weights, found[0].objective + tol))
            pattern = lp.used(found[0].x)
        else:
            return found[0], found[1], True
    raise AssertionError("unreachable")


def _amounts_coin(frame: Frame, x: np.ndarray) -> list[float]:
    """Coin per route from the solver's USD values, noise dropped and trimmed so no account
    sends more than it may withdraw plus what its siblings pass it in the same plan.

    Only the routes that send something are looked at: the others add nothing to a sum
    (each an exact ``fsum``) and are never scaled (issue 18: the passes went over all
    4,000 routes of a 50-venue frame for a few dozen that send).
    """
    routes = frame.routes
    n = len(routes)
    sends = x[:n] > DUST_USD
    coin: list[float] = np.where(sends, x[:n] / frame.columns.price, 0.0).tolist()
    active = [(k, routes[k]) for k in np.flatnonzero(sends).tolist()]
    for _ in range(len(frame.keys) + 1):  # relays settle in at most one pass per account
        out: dict[tuple[int, Currency], list[float]] = {}
        relay: dict[tuple[int, Currency], list[float]] = {}
        for k, r in active:
            out.setdefault((r.src, r.route.asset), []).append(coin[k])
            if r.route.kind is TransferKind.SUBACCOUNT:
                relay.setdefault((r.dst, r.route.asset), []).append(coin[k])
        over = False
        for key, amounts in out.items():
            limit = frame.free_coin.get(key, 0.0) + math.fsum(relay.get(key, []))
            sent = math.fsum(amounts)
            if sent > limit:
                over = True
                factor = limit / sent * (1.0 - 1e-12)
                for k, r in active:
                    if (r.src, r.route.asset) == key:
                        coin[k] *= factor
        if not over:
            break
    return coin


def _transfers(
    frame: Frame, lp: LpModel, sol: np.ndarray, plan: str
) -> tuple[PlannedTransfer, ...]:
    out: list[PlannedTransfer] = []
    amounts = _amounts_coin(frame, sol)
    for k in [k for k, amount in enumerate(amounts) if amount > 0]:  # others move nothing
        r, amount = frame.routes[k], amounts[k]
        used = round(float(sol[lp.y_col[k]])) == 1 if r.binary else True
        credited = amount - (r.route.fee_coin if r.binary else 0.0)
        if not used or credited * r.price_usd <= DUST_USD:
            continue  # trimmed to its fee or below: it would move nothing
        seq = len(out)
        out.append(
            PlannedTransfer(
                transfer_id=transfer_id(plan, seq, r.route),
                seq=seq,
                route=r.route,
                amount_coin=amount,
                fee_coin=r.route.fee_coin if r.binary else 0.0,
                amount_usd=amount * r.price_usd,
                eta_ms=frame.snapshot.ts_ms + r.route.delay_ms,
            )
        )
    return tuple(out)


def equity_after_usd(frame: Frame, transfers: tuple[PlannedTransfer, ...]) -> list[float]:
    """Each account's equity once the in-flight and the planned transfers land, USD."""
    index = {k: i for i, k in enumerate(frame.keys)}
    parts: list[list[float]] = [[e] for e in frame.equity0_usd]
    prices = frame.snapshot.prices_usd
    for t in transfers:
        src, dst = index[t.route.source], index[t.route.destination]
        p = prices[t.asset]
        parts[src].append(-t.amount_coin * p * frame.accounts[src].haircut(t.asset))
        parts[dst].append(t.credited_coin * p * frame.accounts[dst].haircut(t.asset))
    return [math.fsum(x) for x in parts]


def _cost(frame: Frame, lp: LpModel, sol: np.ndarray) -> PlanCost:
    """Fees, idle and trust cost of the plan ``sol``, each an exact sum of its routes' terms."""
    routes = frame.routes
    price = frame.columns.price
    x = sol[: len(routes)]
    used = [routes[k] for k in lp.binary.tolist()]
    y = np.round(sol[lp.ycols])

    def column(values: list[float]) -> np.ndarray:
        return np.array(values, dtype=np.float64)

    idle_x = column([r.idle_x_usd for r in routes]) * x / price
    trust_x = column([r.trust_x_usd for r in routes]) * x / price
    fees = column([r.fee_y_usd for r in used]) * y
    idle_y = column([r.idle_y_usd for r in used]) * y
    trust_y = column([r.trust_y_usd for r in used]) * y
    return PlanCost(
        math.fsum(fees.tolist()),
        math.fsum([*idle_x.tolist(), *idle_y.tolist()]),
        math.fsum([*trust_x.tolist(), *trust_y.tolist()]),
    )


def optimize(
    snapshot: CollateralSnapshot, settings: OptimizerSettings = DEFAULT_SETTINGS
) -> PlanResult:
    """The collateral plan for one snapshot; the same snapshot always gives the same plan."""
    frame = build_frame(snapshot, settings)
    pid = _plan_id(frame, settings)
    transfers: tuple[PlannedTransfer, ...] = ()
    cost = PlanCost()
    relaxed = False
    gap = 0.0
    if frame.triggered:
        lp = LpModel(frame)
        solved, gap, relaxed = _solve(lp, settings)
        transfers = _transfers(frame, lp, solved.x, pid)
        cost = _cost(frame, lp, solved.x)
    after = equity_after_usd(frame, transfers)
    outcomes = tuple(
        AccountOutcome(k, s, e0, e1, f, t, c)
        for k, s, e0, e1, f, t, c in zip(
            frame.keys,
            frame.status,
            frame.equity0_usd,
            after,
            frame.floor_usd,
            frame.target_usd,
            frame.ceiling_usd,
            strict=True,
        )
    )
    shortfalls = explain_shortfalls(frame, after) if frame.triggered else ()
    breaches, notes = _softer(frame, after) if relaxed else ((), ())
    if not frame.triggered:
        status = PlanStatus.IN_BAND
    elif shortfalls:
        status = PlanStatus.FLOOR_UNREACHABLE
    elif relaxed:
        status = PlanStatus.PARTIAL
    else:
        status = PlanStatus.OPTIMAL
    return PlanResult(
        status=status,
        plan=TransferPlan(pid, snapshot.ts_ms, transfers),
        accounts=outcomes,
        cost=cost,
        shortfalls=shortfalls,
        cap_breaches=breaches,
        notes=notes,
        gap_usd=gap,
    )


def _softer(frame: Frame, after: list[float]) -> tuple[tuple[CapBreach, ...], tuple[str, ...]]:
    """Caps left exceeded, and targets given up, once the fallback had to relax them."""
    total = math.fsum(after)
    breaches: list[CapBreach] = []
    for v, venue in enumerate(frame.venues):
        held = math.fsum(e for e, vi in zip(after, frame.venue_index, strict=True) if vi == v)
        for cap, limit in (("absolute", frame.cap_usd[v]), ("share", frame.share_frac[v] * total)):
            if held - limit > tolerance_usd(total):
                breaches.append(CapBreach(venue, cap, held - limit))
    notes: list[str] = []
    for i, key in enumerate(frame.keys):
        below = frame.status[i] is AccountStatus.BELOW_FLOOR
        aim = frame.target_usd[i] if below else frame.keep_usd[i]
        if aim - after[i] > tolerance_usd(aim):
            what = "target not reached" if below else "donor taken below its target"
            notes.append(f"{key}: {what} ({after[i]:.2f} of {aim:.2f} USD)")
    return tuple(breaches), tuple(notes)
