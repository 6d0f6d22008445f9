"""Why an account stays below its floor: the operator's answer and the engine's REDUCING cue.

The solver only says how far short the best plan falls. These checks name the
binding limits with their figures: no route in; routes whose minimum exceeds
what the source can withdraw; too little spare collateral (above the donors'
own floors and initial margins) among the accounts that can reach it; the
venue's caps; or, when none of those alone explains it, the joint effect of
them and of other accounts below floor drawing on the same supply.
"""

from __future__ import annotations

import math

from bot.domain.collateral.frame import Blocked, Frame, tolerance_usd
from bot.domain.collateral.model import AccountKey
from bot.domain.collateral.plan import AccountStatus, Shortfall, ShortfallReason


def _senders(frame: Frame) -> dict[int, set[int]]:
    """Each account's direct senders over usable routes, once per explanation (issue 18:
    a walk over every route per account reached was 0.3 s a plan at 50 venues)."""
    senders: dict[int, set[int]] = {}
    for r in frame.routes:
        senders.setdefault(r.dst, set()).add(r.src)
    return senders


def _sources(senders: dict[int, set[int]], i: int) -> set[int]:
    """Accounts from which some chain of usable routes reaches account ``i``."""
    seen: set[int] = set()
    todo = [i]
    while todo:
        j = todo.pop()
        for src in senders.get(j, ()):
            if src not in seen and src != i:
                seen.add(src)
                todo.append(src)
    return seen


def _spare_usd(frame: Frame, j: int) -> float:
    """What account ``j`` could give: above its floor and IM, and no more than its free coin."""
    above = max(0.0, frame.equity0_usd[j] - frame.hard_lo_usd[j])
    prices = frame.snapshot.prices_usd
    free = math.fsum(q * prices[a] for (k, a), q in frame.free_coin.items() if k == j)
    return min(above, free)


def _venue_room_usd(frame: Frame, v: int) -> float:
    """USD the venue can still receive from other venues before a cap binds."""
    held, total = frame.venue_equity0_usd(v), frame.total0_usd
    room = frame.cap_usd[v] - held
    share = frame.share_frac[v]
    if share < 1.0:
        room = min(room, (share * total - held) / (1.0 - share))
    return max(0.0, room)


def explain_shortfalls(frame: Frame, after_usd: list[float]) -> tuple[Shortfall, ...]:
    """One :class:`Shortfall`, with at least one reason, per account left below its floor."""
    out: list[Shortfall] = []
    short_of = [f - a for f, a in zip(frame.floor_usd, after_usd, strict=True)]
    if all(s <= tolerance_usd(f) for s, f in zip(short_of, frame.floor_usd, strict=True)):
        return ()  # every floor met: nothing to explain, no maps to build
    deficits = [i for i, s in enumerate(frame.status) if s is AccountStatus.BELOW_FLOOR]
    senders = _senders(frame)
    blocked_into: dict[AccountKey, list[Blocked]] = {}
    for b in frame.unusable:
        blocked_into.setdefault(b.route.destination, []).append(b)
    for i, key in enumerate(frame.keys):
        short = short_of[i]
        if short <= tolerance_usd(frame.floor_usd[i]):
            continue
        need = frame.floor_usd[i] - frame.equity0_usd[i]
        reasons: list[tuple[ShortfallReason, str]] = []
        inbound = i in senders
        blocked = blocked_into.get(key, [])
        if not inbound and not blocked:
            reasons.append(
                (ShortfallReason.NO_ROUTE, "no sub-account sibling and no whitelisted route in")
            )
        reasons += [(ShortfallReason.MINIMUM_SIZE, b.why) for b in blocked]
        sources = _sources(senders, i)
        spare = {j: _spare_usd(frame, j) for j in sorted(sources)}
        supply = math.fsum(spare.values())
        if inbound and supply < need - tolerance_usd(need):
            reasons.append(
                (
                    ShortfallReason.NOT_ENOUGH_COLLATERAL,
                    f"accounts that can reach it can spare {supply:.2f} USD above their floors "
                    f"and initial margins; it needs {need:.2f} USD",
                )
            )
        v = frame.venue_index[i]
        inside = math.fsum(s for j, s in spare.items() if frame.venue_index[j] == v)
        room = _venue_room_usd(frame, v)
        if inbound and need - inside > room + tolerance_usd(need) and supply - inside > room:
            reasons.append(
                (
                    ShortfallReason.VENUE_CAP,
                    f"{frame.venues[v]} can take {room:.2f} USD more from other venues under "
                    f"its caps; its sub-accounts can spare {inside:.2f}, it needs {need:.2f} USD",
                )
            )
        if not reasons:
            rivals = [j for j in deficits if j != i and _sources(senders, j) & sources]
            detail = (
                f"{len(rivals)} other account(s) below floor draw on the same {supply:.2f} USD"
                if rivals
                else f"{supply:.2f} USD spare in reach, but fees, minimums and caps together "
                "leave it short"
            )
            reasons.append((ShortfallReason.JOINT_LIMITS, detail))
        out.append(Shortfall(key, short, tuple(reasons)))
    return tuple(out)
