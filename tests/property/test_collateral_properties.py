"""For any snapshot: collateral is conserved, no cap or withdrawable amount is exceeded,
floors are met when they can be and explained when not, and the plan is deterministic."""

from __future__ import annotations

import math
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.collateral import (
    AccountCollateral,
    AccountKey,
    CollateralSnapshot,
    InFlightTransfer,
    MarginBand,
    PlanResult,
    PlanStatus,
    Route,
    TrustSettings,
    optimize,
)
from bot.domain.ids import Currency, VenueId
from bot.domain.orders import TransferKind

BTC, USDC = Currency("BTC"), Currency("USDC")
PRICES = {BTC: 50_000.0, USDC: 1.0}
T0_MS = 1_700_000_000_000
FEW = settings(max_examples=60)


def tol(x: float) -> float:
    return 2e-6 * max(1.0, abs(x))


@st.composite
def accounts_of(draw: st.DrawFn, venue: VenueId) -> list[AccountCollateral]:
    out = []
    for sub in ["main", "sub"][: draw(st.integers(1, 2))]:
        mm = draw(st.sampled_from([0.0, 1e4, 1e5, 1e6]))
        floor = draw(st.sampled_from([1.0, 1.5, 2.0]))
        target = floor + draw(st.sampled_from([0.0, 0.5, 1.0]))
        ceiling = draw(st.sampled_from([None, target + 0.5, target + 3.0]))
        ratio = draw(st.sampled_from([0.3, 0.9, 1.2, 1.8, 2.5, 4.0, 8.0]))
        equity = ratio * mm + draw(st.sampled_from([0.0, 1e3, 1e5]))
        free_frac = draw(st.floats(0.0, 1.0))
        btc_share = draw(st.floats(0.0, 1.0))
        free = {BTC: free_frac * btc_share * equity / PRICES[BTC]}
        free[USDC] = free_frac * (1 - btc_share) * equity
        out.append(
            AccountCollateral(
                AccountKey(venue, sub),
                equity,
                mm * draw(st.sampled_from([1.0, 1.3, 2.0])),
                mm,
                MarginBand(floor, target, ceiling),
                free,
                haircut_frac={BTC: draw(st.sampled_from([1.0, 0.95]))},
                idle_cost_frac_per_year={USDC: draw(st.sampled_from([0.0, 0.05]))},
            )
        )
    return out


@st.composite
def snapshots(draw: st.DrawFn) -> CollateralSnapshot:
    venues = [VenueId(f"v{i}") for i in range(draw(st.integers(2, 3)))]
    accounts = [a for v in venues for a in draw(accounts_of(v))]
    trust = {
        v: TrustSettings(
            score=draw(st.floats(0.0, 1.0)),
            max_share_frac=draw(st.sampled_from([1.0, 0.8, 0.5])),
            max_collateral_usd=draw(st.sampled_from([None, 5e5, 5e6])),
        )
        for v in venues
    }
    routes = []
    for src in venues:
        for dst in venues:
            for asset in (BTC, USDC):
                if src != dst and draw(st.booleans()):
                    fee = draw(st.sampled_from([0.0, 0.0002 if asset == BTC else 5.0]))
                    minimum = draw(st.sampled_from([0.0, 0.01 if asset == BTC else 1_000.0]))
                    routes.append(
                        Route(
                            AccountKey(src, "main"),
                            AccountKey(dst, "main"),
                            asset,
                            fee_coin=fee,
                            min_coin=minimum,
                            delay_ms=600_000,
                            address=f"addr-{dst}-{asset}",
                        )
                    )
    keys = [a.account for a in accounts]
    in_flight = tuple(
        InFlightTransfer(draw(st.sampled_from(keys)), USDC, draw(st.floats(0.0, 1e5)))
        for _ in range(draw(st.integers(0, 1)))
    )
    return CollateralSnapshot(T0_MS, PRICES, tuple(accounts), trust, tuple(routes), in_flight)


def account_moves(result: PlanResult) -> dict[tuple[AccountKey, Currency], list[float]]:
    """Signed coin changes per account and asset implied by the transfers."""
    moves: dict[tuple[AccountKey, Currency], list[float]] = defaultdict(list)
    for t in result.plan.transfers:
        moves[(t.route.source, t.asset)].append(-t.amount_coin)
        moves[(t.route.destination, t.asset)].append(t.credited_coin)
    return moves


def venue_totals(result: PlanResult) -> tuple[dict[VenueId, float], dict[VenueId, float]]:
    before: dict[VenueId, list[float]] = defaultdict(list)
    after: dict[VenueId, list[float]] = defaultdict(list)
    for o in result.accounts:
        before[o.account.venue].append(o.equity_before_usd)
        after[o.account.venue].append(o.equity_after_usd)
    return (
        {v: math.fsum(x) for v, x in before.items()},
        {v: math.fsum(x) for v, x in after.items()},
    )


@FEW
@given(snapshots())
def test_collateral_is_conserved(snap: CollateralSnapshot) -> None:
    """Per asset, coin debited = coin credited + fees; equity moves only by the transfers."""
    result = optimize(snap)
    fees: dict[Currency, list[float]] = defaultdict(list)
    for t in result.plan.transfers:
        assert t.amount_coin > 0 and t.credited_coin >= 0
        assert t.fee_coin == (t.route.fee_coin if t.route.kind is TransferKind.WITHDRAWAL else 0)
        fees[t.asset].append(t.fee_coin)
    moves = account_moves(result)
    for asset in (BTC, USDC):
        net = math.fsum(q for (_, a), qs in moves.items() if a == asset for q in qs)
        assert math.isclose(net, -math.fsum(fees[asset]), rel_tol=1e-9, abs_tol=1e-9)
    by_key = {a.account: a for a in snap.accounts}
    for o in result.accounts:
        acct = by_key[o.account]
        change = math.fsum(
            q * PRICES[a] * acct.haircut(a)
            for (k, a), qs in moves.items()
            if k == o.account
            for q in qs
        )
        assert math.isclose(
            o.equity_after_usd, o.equity_before_usd + change, abs_tol=tol(o.floor_usd)
        )


@FEW
@given(snapshots())
def test_withdrawable_minimums_and_caps_are_respected(snap: CollateralSnapshot) -> None:
    """No account sends more than it may withdraw (plus same-plan sub-account inflows), no
    route is used below its minimum, and no venue ends above a cap it was within (or grows
    past one it already broke)."""
    result = optimize(snap)
    free = {(a.account, x): q for a in snap.accounts for x, q in a.free_coin.items()}
    out: dict[tuple[AccountKey, Currency], list[float]] = defaultdict(list)
    relay_in: dict[tuple[AccountKey, Currency], list[float]] = defaultdict(list)
    for t in result.plan.transfers:
        assert t.amount_coin >= t.route.min_effective_coin * (1 - 1e-9)
        out[(t.route.source, t.asset)].append(t.amount_coin)
        if t.route.kind is TransferKind.SUBACCOUNT:
            relay_in[(t.route.destination, t.asset)].append(t.amount_coin)
    for key, amounts in out.items():
        limit = free.get(key, 0.0) + math.fsum(relay_in[key])
        assert math.fsum(amounts) <= limit + 1e-9 * max(1.0, limit), key
    before, after = venue_totals(result)
    total_before, total_after = math.fsum(before.values()), math.fsum(after.values())
    for v in before:
        trust = snap.trust_of(v)
        cap = math.inf if trust.max_collateral_usd is None else trust.max_collateral_usd
        assert after[v] <= max(cap, before[v]) + tol(total_before)
        share_over = max(0.0, before[v] - trust.max_share_frac * total_before)
        assert after[v] - trust.max_share_frac * total_after <= share_over + tol(total_before)
        if result.status is PlanStatus.OPTIMAL:
            assert after[v] <= cap + tol(total_before)
            assert after[v] <= trust.max_share_frac * total_after + tol(total_before)


@FEW
@given(snapshots())
def test_floors_are_met_or_explained(snap: CollateralSnapshot) -> None:
    """Every floor is met, or the accounts short of it are exactly those explained, each with
    a reason, and their venues (only) go REDUCING; donors never drop below floor or IM."""
    result = optimize(snap)
    by_key = {a.account: a for a in snap.accounts}
    short = {
        o.account for o in result.accounts if o.floor_usd - o.equity_after_usd > tol(o.floor_usd)
    }
    assert {s.account for s in result.shortfalls} == short
    assert all(s.reasons for s in result.shortfalls)
    assert result.reducing_venues == {k.venue for k in short}
    assert (result.status is PlanStatus.FLOOR_UNREACHABLE) == bool(short)
    for o in result.accounts:
        assert o.equity_after_usd <= max(o.equity_before_usd, o.ceiling_usd) + tol(o.ceiling_usd)
        if o.equity_before_usd >= o.floor_usd:
            guard = min(o.equity_before_usd, by_key[o.account].initial_margin_usd)
            assert o.equity_after_usd >= max(o.floor_usd, guard) - tol(o.floor_usd)
        else:
            assert o.equity_after_usd >= o.equity_before_usd - tol(o.floor_usd)


@FEW
@given(st.lists(st.floats(0.3, 2.4), min_size=1, max_size=4), st.floats(1.0, 3.0))
def test_floors_are_met_whenever_a_sibling_can_cover_them(
    ratios: list[float], spare: float
) -> None:
    """Deficits that a same-venue sibling can cover (free, instant, no caps) are always met."""
    band = MarginBand(2.5, 3.0, 4.0)
    accounts = []
    need = 0.0
    for i, ratio in enumerate(ratios):
        mm = 10_000.0 * (i + 1)
        accounts.append(
            AccountCollateral(AccountKey(VenueId("v"), f"s{i}"), ratio * mm, mm, mm, band)
        )
        need += max(0.0, 3.0 * mm - ratio * mm)
    donor_mm = need * spare
    donor = AccountCollateral(
        AccountKey(VenueId("v"), "donor"),
        4.0 * donor_mm,
        donor_mm,
        donor_mm,
        band,
        {USDC: 3.5 * donor_mm},
    )
    result = optimize(CollateralSnapshot(T0_MS, PRICES, (*accounts, donor)))
    assert result.floors_met
    assert result.status in (PlanStatus.OPTIMAL, PlanStatus.IN_BAND)


@FEW
@given(snapshots(), st.randoms(use_true_random=False))
def test_same_snapshot_same_plan(snap: CollateralSnapshot, rng: object) -> None:
    """Equal inputs, in any order, give the same plan id, transfers, ids and outcomes."""
    shuffled_accounts, shuffled_routes = list(snap.accounts), list(snap.routes)
    rng.shuffle(shuffled_accounts)  # type: ignore[attr-defined]
    rng.shuffle(shuffled_routes)  # type: ignore[attr-defined]
    other = CollateralSnapshot(
        snap.ts_ms,
        PRICES,
        tuple(shuffled_accounts),
        snap.trust,
        tuple(shuffled_routes),
        snap.in_flight,
    )
    first, second = optimize(snap), optimize(other)
    assert first == second
    ids = [t.transfer_id for t in first.plan.transfers]
    assert len(set(ids)) == len(ids)
