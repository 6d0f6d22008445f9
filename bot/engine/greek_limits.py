"""The last plan's vega/gamma per expiry bucket and its ``[greek_limits]`` checks.

One place turns a :class:`~bot.engine.plan.CyclePlan` (its expiry buckets, index
prices and valuation time) into bucket views and limit checks, so that health,
``deltabot status``, the metrics and the dashboard read the same figures.
"""

from __future__ import annotations

from bot.config.greek_limits import GreekLimitsConfig
from bot.domain import health_rules as rules
from bot.domain.greek_limits import BucketView, LimitCheck, bucket_views, check_limits
from bot.domain.health import Component
from bot.engine.plan import CyclePlan


def plan_views(plan: CyclePlan, config: GreekLimitsConfig) -> tuple[BucketView, ...]:
    """Every underlying's views per bucket the book holds, then its ``all`` view."""
    if plan.expiry_buckets is None:
        return ()
    return bucket_views(
        plan.expiry_buckets,
        [d.underlying for d in plan.decisions],
        [d.index_usd for d in plan.decisions],
        valuation_ts_ms=plan.valuation_ts_ms,
        edges_days=config.bucket_edges_days,
    )


def plan_checks(plan: CyclePlan, config: GreekLimitsConfig) -> tuple[LimitCheck, ...]:
    """Each configured limit on a bucket the book holds, judged against the plan's views."""
    return check_limits(plan_views(plan, config), config.domain_limits())


def greek_components(plan: CyclePlan | None, config: GreekLimitsConfig) -> list[Component]:
    """``greeks:<U>`` for each underlying with a configured limit (none without a plan)."""
    if plan is None:
        return []
    checks = plan_checks(plan, config)
    limited = dict.fromkeys(lim.underlying for lim in config.domain_limits())
    return [rules.greeks(u, [c for c in checks if c.limit.underlying == u]) for u in limited]
