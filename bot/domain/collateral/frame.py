"""The snapshot prepared for the solver: sorted, with requirements, bounds and costs in USD.

Everything the LP and the explanation need is computed here once, in a fixed
order (accounts, venues and routes sorted by key), so the same snapshot gives
the same matrix and therefore the same plan.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter
from typing import Final, NamedTuple

import numpy as np

from bot.domain.collateral.model import (
    AccountCollateral,
    AccountKey,
    CollateralSnapshot,
    OptimizerSettings,
    Route,
)
from bot.domain.collateral.plan import AccountStatus
from bot.domain.ids import Currency, VenueId
from bot.domain.orders import TransferKind
from bot.domain.timeunits import MS_PER_YEAR

MOVE_COST_FRAC: Final = 1e-7
"""Tie-break cost per USD moved: no circular or pointless moves among equal options."""
MIN_CREDIT_USD: Final = 0.01
"""Least a withdrawal the plan opens credits after its fee. One that only paid its fee
would move nothing and could not be sent; were the solver free to plan it, the plan sent
would differ from the point solved, whose every constraint assumed that fee paid."""


def tolerance_usd(scale_usd: float) -> float:
    """Slack allowed on a USD comparison of size ``scale_usd`` (solver round-off)."""
    return 1e-6 * max(1.0, abs(scale_usd))


class RouteTerms(NamedTuple):
    """A usable route with its bound and per-unit effects, all in USD except ``upper_coin``.

    A named tuple, immutable like the frame's other values, made at C speed (see
    :func:`build_frame`): at 50 venues a frame makes 4,000 of them per plan, and a frozen
    dataclass's ``__init__`` (one ``object.__setattr__`` per field) was a third of the frame
    (issue 18)."""

    route: Route
    src: int
    dst: int
    price_usd: float
    upper_coin: float
    """Most it can carry: the source's free amount plus what siblings can pass it."""
    lower_coin: float
    """Least it carries when used: its minimum, and its fee plus :data:`MIN_CREDIT_USD`."""
    binary: bool
    """Needs an on/off variable: a fixed fee or a minimum."""
    src_value_usd: float
    """Equity lost at the source per coin sent (haircut there)."""
    dst_value_usd: float
    """Equity gained at the destination per coin credited (haircut there)."""
    idle_x_usd: float
    idle_y_usd: float
    trust_x_usd: float
    trust_y_usd: float
    fee_y_usd: float


@dataclass(frozen=True, slots=True)
class Blocked:
    """A route whose least useful amount is above what it can carry today."""

    route: Route
    lower_coin: float
    withdrawable_coin: float
    upper_coin: float

    @property
    def why(self) -> str:
        """The operator's sentence."""
        r = self.route
        return (
            f"{r.source}->{r.destination} {r.asset} needs >= {self.lower_coin:g} "
            f"coin; {self.withdrawable_coin:g} withdrawable, at most {self.upper_coin:g} useful"
        )


@dataclass(frozen=True, slots=True)
class RouteColumns:
    """The kept routes as columns, one array per field, in ``Frame.routes`` order: the
    matrix is built from these without a Python loop per route (issue 18: the per-route
    loops and a dense account x column matrix were 80 ms at 50 venues)."""

    src: np.ndarray
    dst: np.ndarray
    asset: np.ndarray
    """Index into ``assets``."""
    assets: tuple[Currency, ...]
    """Sorted, so a row per (account, asset) comes in the order of that pair."""
    subaccount: np.ndarray
    binary: np.ndarray
    price: np.ndarray
    fee_coin: np.ndarray
    upper_coin: np.ndarray
    lower_coin: np.ndarray
    src_value: np.ndarray
    dst_value: np.ndarray
    cost_x: np.ndarray
    """Idle and trust cost per coin sent."""
    cost_y: np.ndarray
    """Fee, idle and trust cost of using the route at all."""


@dataclass(frozen=True, slots=True)
class _BlockedColumns:
    """The blocked routes and their figures as columns (see :attr:`Frame.unusable`)."""

    routes: tuple[Route, ...]
    lower_coin: np.ndarray
    withdrawable_coin: np.ndarray
    upper_coin: np.ndarray


@dataclass(frozen=True, slots=True)
class Frame:
    """One snapshot in solver order; account arrays are indexed like ``keys``."""

    snapshot: CollateralSnapshot
    accounts: tuple[AccountCollateral, ...]
    keys: tuple[AccountKey, ...]
    venues: tuple[VenueId, ...]
    venue_index: tuple[int, ...]
    equity0_usd: tuple[float, ...]
    """Equity once the in-flight transfers land."""
    floor_usd: tuple[float, ...]
    target_usd: tuple[float, ...]
    ceiling_usd: tuple[float, ...]
    hard_lo_usd: tuple[float, ...]
    """Never below: a deficit keeps what it has; a donor keeps its floor and its IM."""
    keep_usd: tuple[float, ...]
    """A donor gives only above this (its target) unless a floor elsewhere needs it."""
    status: tuple[AccountStatus, ...]
    cap_usd: tuple[float, ...]
    share_frac: tuple[float, ...]
    penalty_frac: tuple[float, ...]
    """Trust penalty per USD held at the venue over the horizon."""
    routes: tuple[RouteTerms, ...]
    columns: RouteColumns
    blocked: _BlockedColumns
    free_coin: Mapping[tuple[int, Currency], float]
    routes_digest: str
    """blake2b (hex) of every route listed (the snapshot's and the sub-account ones): each
    text field's distinct values, and every route's ranks in them and its figures, sorted on
    all nine fields (so the same routes in any order give the same digest). The plan id
    hashes it for the route list (issue 18: the list's text, written route by route, was
    9-11 ms of a 50-venue plan's 55-60; this is under 1 ms)."""

    @property
    def unusable(self) -> tuple[Blocked, ...]:
        """Routes whose least useful amount is above what they can carry today (made only
        when a shortfall is explained: at 50 venues thousands are, on every plan)."""
        b = self.blocked
        rows = zip(
            b.routes,
            b.lower_coin.tolist(),
            b.withdrawable_coin.tolist(),
            b.upper_coin.tolist(),
            strict=True,
        )
        return tuple(Blocked(*row) for row in rows)

    @property
    def total0_usd(self) -> float:
        return math.fsum(self.equity0_usd)

    def venue_equity0_usd(self, v: int) -> float:
        return math.fsum(
            e for e, vi in zip(self.equity0_usd, self.venue_index, strict=True) if vi == v
        )

    def cap_excess0_usd(self, v: int) -> tuple[float, float]:
        """How far venue ``v`` is above its absolute and its share cap before any move."""
        held = self.venue_equity0_usd(v)
        return held - self.cap_usd[v], held - self.share_frac[v] * self.total0_usd

    @property
    def triggered(self) -> bool:
        """Hysteresis: act only if an account is outside its band or a venue above a cap."""
        if any(s is not AccountStatus.IN_BAND for s in self.status):
            return True
        tol = tolerance_usd(self.total0_usd)
        return any(max(self.cap_excess0_usd(v)) > tol for v in range(len(self.venues)))


def _status(equity: float, floor: float, ceiling: float) -> AccountStatus:
    if equity < floor:
        return AccountStatus.BELOW_FLOOR
    if equity > ceiling:
        return AccountStatus.ABOVE_CEILING
    return AccountStatus.IN_BAND


def _sub_account_routes(
    accounts: tuple[AccountCollateral, ...], routes: tuple[Route, ...]
) -> list[Route]:
    """Free, instant routes between every ordered pair of sub-accounts of one venue, but
    those ``routes`` lists already."""
    out: list[Route] = []
    for a in accounts:
        for b in accounts:
            if a.account.venue != b.account.venue or a.account == b.account:
                continue
            assets = {x for x, q in a.free_coin.items() if q > 0}
            for asset in sorted(assets):
                out.append(Route(a.account, b.account, asset, TransferKind.SUBACCOUNT))
    if out:
        given = {r.sort_key for r in routes if r.kind is TransferKind.SUBACCOUNT}
        out = [r for r in out if r.sort_key not in given]
    return out


def _coin_bound(usd: np.ndarray, price_usd: np.ndarray, haircut: np.ndarray) -> np.ndarray:
    """Coin worth ``usd`` of equity at ``haircut``, a venue's smallest (inf if 0)."""
    value = price_usd * haircut
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((value <= 0) | np.isinf(usd), np.inf, usd / value)


def _ranks(texts: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """Each text's place among the distinct ones, sorted (compares as the texts do), and
    those distinct texts."""
    distinct = sorted(set(texts))
    rank = {t: q for q, t in enumerate(distinct)}
    return np.fromiter(map(rank.__getitem__, texts), dtype=np.int64, count=len(texts)), distinct


_ROUTE_TEXTS: Final = json.JSONEncoder(separators=(",", ":"))
_FEE: Final = attrgetter("fee_coin")
_MIN: Final = attrgetter("min_coin")
_DELAY: Final = attrgetter("delay_ms")


def _routes_digest(texts: object, columns: tuple[np.ndarray, ...], order: np.ndarray) -> str:
    """blake2b (hex) of the routes as columns: ``texts`` (JSON) the distinct values the
    ranks in ``columns`` index, and every column's rows in ``order``."""
    digest = hashlib.blake2b(_ROUTE_TEXTS.encode(texts).encode(), digest_size=16)
    for column in columns:
        digest.update(column[order].tobytes())
    return digest.hexdigest()


def build_frame(snapshot: CollateralSnapshot, settings: OptimizerSettings) -> Frame:  # noqa: PLR0915 - one table per constraint family, built in the order the docstring lists them
    """Sort, price and bound everything once; see the module docstring of ``optimizer``."""
    accounts = tuple(sorted(snapshot.accounts, key=lambda a: a.account))
    keys = tuple(a.account for a in accounts)
    index = {k: i for i, k in enumerate(keys)}
    venues = tuple(sorted({k.venue for k in keys}))
    venue_index = tuple(venues.index(k.venue) for k in keys)
    prices = snapshot.prices_usd
    horizon_y = settings.horizon_years

    landing = [[a.equity_usd] for a in accounts]
    for moving in snapshot.in_flight:
        i = index[moving.destination]
        value = moving.amount_coin * prices[moving.asset] * accounts[i].haircut(moving.asset)
        landing[i].append(value)
    equity0 = tuple(math.fsum(parts) for parts in landing)
    floor = tuple(a.requirement_usd(a.band.floor) for a in accounts)
    target = tuple(a.requirement_usd(a.band.target) for a in accounts)
    ceiling = tuple(a.requirement_usd(a.band.ceiling) for a in accounts)
    status = tuple(_status(e, f, c) for e, f, c in zip(equity0, floor, ceiling, strict=True))
    hard_lo: list[float] = []
    keep: list[float] = []
    for a, e, f, t, s in zip(accounts, equity0, floor, target, status, strict=True):
        guard_im = min(e, a.initial_margin_usd)
        if s is AccountStatus.BELOW_FLOOR:
            hard_lo.append(e)
            keep.append(e)
        else:
            hard_lo.append(max(f, guard_im))
            keep.append(max(min(e, t), guard_im))

    trust = [snapshot.trust_of(v) for v in venues]
    cap = tuple(math.inf if t.max_collateral_usd is None else t.max_collateral_usd for t in trust)
    share = tuple(t.max_share_frac for t in trust)
    rate = settings.trust_penalty_frac_per_year * horizon_y
    penalty = tuple((1.0 - t.effective_score(snapshot.ts_ms)) * rate for t in trust)

    free: dict[tuple[int, Currency], float] = {}
    for i, a in enumerate(accounts):
        for asset, q in a.free_coin.items():
            free[(i, asset)] = q

    listed = [*snapshot.routes, *_sub_account_routes(accounts, snapshot.routes)]
    # ``sort_key`` order, then fee, minimum and delay (so routes listed twice come in one
    # order whatever the snapshot's), each account as its place in ``keys`` (the same order:
    # the accounts are sorted by key) and each text as its rank, sorted by numpy (issue 18:
    # a Python sort key per route was a third of the frame at 50 venues).
    parts = list(zip(*(r.sort_key for r in listed), strict=True)) or [()] * 6
    kinds, sources, destinations, route_assets, addresses, networks = parts
    n_routes = len(listed)
    assets = sorted(set(route_assets))
    where = {a: q for q, a in enumerate(assets)}
    src_all = np.fromiter(map(index.__getitem__, sources), dtype=np.int64, count=n_routes)
    dst_all = np.fromiter(map(index.__getitem__, destinations), dtype=np.int64, count=n_routes)
    asset_all = np.fromiter(map(where.__getitem__, route_assets), dtype=np.int64, count=n_routes)
    (kind_all, kind_texts), (address_all, address_texts), (network_all, network_texts) = (
        _ranks(kinds),
        _ranks(addresses),
        _ranks(networks),
    )
    # + 0.0: a fee or minimum written -0.0 sorts and hashes as 0.0, the number it is.
    fee_all = np.fromiter(map(_FEE, listed), dtype=np.float64, count=n_routes) + 0.0
    minimum_all = np.fromiter(map(_MIN, listed), dtype=np.float64, count=n_routes) + 0.0
    delay_all = np.fromiter(map(_DELAY, listed), dtype=np.int64, count=n_routes)
    ranked: tuple[np.ndarray, ...] = (
        *(kind_all, src_all, dst_all, asset_all, address_all, network_all),
        *(fee_all, minimum_all, delay_all),
    )
    at_sorted = np.lexsort(ranked[::-1]) if n_routes else np.zeros(0, dtype=np.int64)
    texts = (kind_texts, [[k.venue, k.sub_account] for k in keys], assets)
    routes_digest = _routes_digest((*texts, address_texts, network_texts), ranked, at_sorted)
    all_routes = [listed[k] for k in at_sorted.tolist()]
    src, dst, asset_at = src_all[at_sorted], dst_all[at_sorted], asset_all[at_sorted]

    members = [[k for k in range(len(keys)) if venue_index[k] == v] for v in range(len(venues))]
    give = [math.fsum(max(0.0, equity0[k] - hard_lo[k]) for k in m) for m in members]
    take = [math.fsum(max(0.0, ceiling[k] - equity0[k]) for k in m) for m in members]
    # Every route's bounds and costs as columns (issue 18: at 50 venues x 4 assets the
    # per-route loop over 9,800 routes was most of the frame); objects only for the
    # routes kept and the ones blocked.
    n_v, n_a = len(venues), len(assets)
    account_haircut = np.array([[a.haircut(x) for x in assets] for a in accounts]).reshape(
        len(accounts), n_a
    )
    account_idle = np.array([[a.idle_rate(x) for x in assets] for a in accounts]).reshape(
        len(accounts), n_a
    )
    venue_haircut = np.array(
        [[min(accounts[k].haircut(x) for k in m) for x in assets] for m in members]
    ).reshape(n_v, n_a)
    withdrawable_coin = np.array(
        [[math.fsum(free.get((k, x), 0.0) for k in m) for x in assets] for m in members]
    ).reshape(n_v, n_a)
    fee, minimum, delay = fee_all[at_sorted], minimum_all[at_sorted], delay_all[at_sorted]
    src_v, dst_v = (
        np.array(venue_index, dtype=np.int64)[src],
        np.array(venue_index, dtype=np.int64)[dst],
    )
    price = np.array([prices[x] for x in assets])[asset_at]
    withdrawable = withdrawable_coin[src_v, asset_at]
    # Tight big-M: the source venue cannot lose more equity than it can spare, nor the
    # destination venue gain more than fits under its ceilings (relays included).
    upper = np.minimum(
        np.minimum(
            withdrawable, _coin_bound(np.array(give)[src_v], price, venue_haircut[src_v, asset_at])
        ),
        _coin_bound(np.array(take)[dst_v], price, venue_haircut[dst_v, asset_at]) + fee,
    )
    binary = (fee > 0) | (minimum > 0)
    lower = np.where(
        binary, np.maximum(np.maximum(minimum, fee), fee + MIN_CREDIT_USD / price), 0.0
    )
    # Nothing of the asset anywhere it could come from: not a route today.
    possible = withdrawable > 0
    unfit = possible & ((lower > upper) | (upper <= 0))
    at = np.flatnonzero(unfit & (lower > 0))
    blocked = _BlockedColumns(
        tuple(all_routes[k] for k in at.tolist()), lower[at], withdrawable[at], upper[at]
    )
    kept = np.flatnonzero(possible & ~unfit)
    src, dst, asset_at, src_v, dst_v, price, fee = (
        src[kept],
        dst[kept],
        asset_at[kept],
        src_v[kept],
        dst_v[kept],
        price[kept],
        fee[kept],
    )
    hs, hd = account_haircut[src, asset_at], account_haircut[dst, asset_at]
    rs, rd = account_idle[src, asset_at], account_idle[dst, asset_at]
    pen_s, pen_d = np.array(penalty)[src_v], np.array(penalty)[dst_v]
    src_value, dst_value = price * hs, price * hd
    idle_x = price * (horizon_y * (rd - rs) + rs * delay[kept] / MS_PER_YEAR)
    idle_y = -price * fee * horizon_y * rd
    trust_x = price * (pen_d * hd - pen_s * hs)
    trust_y = -price * fee * pen_d * hd
    rows = zip(
        [all_routes[k] for k in kept.tolist()],
        src.tolist(),
        dst.tolist(),
        price.tolist(),
        upper[kept].tolist(),
        lower[kept].tolist(),
        binary[kept].tolist(),
        src_value.tolist(),
        dst_value.tolist(),
        idle_x.tolist(),
        idle_y.tolist(),
        trust_x.tolist(),
        trust_y.tolist(),
        (price * fee).tolist(),
        strict=True,
    )
    # Each row made a RouteTerms by ``tuple.__new__`` in C: the named tuple's own ``__new__``
    # is a Python function, and a call per route was a quarter of the frame (issue 18).
    terms: list[RouteTerms] = list(map(tuple.__new__, repeat(RouteTerms), rows))
    sub = TransferKind.SUBACCOUNT
    route_columns = RouteColumns(
        src=src,
        dst=dst,
        asset=asset_at,
        assets=tuple(assets),
        subaccount=np.array([all_routes[k].kind is sub for k in kept.tolist()], dtype=bool),
        binary=binary[kept],
        price=price,
        fee_coin=fee,
        upper_coin=upper[kept],
        lower_coin=lower[kept],
        src_value=src_value,
        dst_value=dst_value,
        cost_x=idle_x + trust_x,
        cost_y=price * fee + idle_y + trust_y,
    )
    return Frame(
        snapshot=snapshot,
        accounts=accounts,
        keys=keys,
        venues=venues,
        venue_index=venue_index,
        equity0_usd=equity0,
        floor_usd=floor,
        target_usd=target,
        ceiling_usd=ceiling,
        hard_lo_usd=tuple(hard_lo),
        keep_usd=tuple(keep),
        status=status,
        cap_usd=cap,
        share_frac=share,
        penalty_frac=penalty,
        routes=tuple(terms),
        columns=route_columns,
        blocked=blocked,
        free_coin=free,
        routes_digest=routes_digest,
    )
