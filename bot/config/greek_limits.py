"""``[greek_limits]``: expiry buckets and the soft (alert) and hard (propose) vega/gamma limits.

The conventions (buckets, standardised vega) are :mod:`bot.domain.greek_limits`'.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from bot.config.base import Array, FrozenModel, Loc, fail_at, repeats
from bot.domain.greek_limits import ALL, GreekLimit, bucket_labels
from bot.domain.ids import Currency

MAX_EDGE_DAYS = 3650.0
"""The longest bucket edge, days (ten years)."""
MAX_LIMIT_USD = 1e12
"""The largest limit, USD (no book comes near it; a bound keeps a typo finite)."""


def _limit(description: str) -> float | None:
    return Field(
        default=None,
        gt=0,
        le=MAX_LIMIT_USD,
        description=f"{description} In (0, 1e12]. Default: none (no limit).",
    )


class GreekLimitConfig(FrozenModel):
    """One ``[[greek_limits.limits]]`` table: one underlying's limits in one bucket."""

    underlying: str = Field(min_length=1, description="Underlying coin, e.g. BTC. Required.")
    bucket: str = Field(
        default=ALL,
        description=(
            "Expiry bucket: a name made from bucket_edges_days (0-7d, 7-30d, 30-90d, 90d+ "
            "for the default edges), undated, or all (the whole book). Default: all."
        ),
    )
    soft_vega_usd_per_volpt: float | None = _limit(
        "|Standardised vega| (vega x sqrt(30/days)) above which an alert is raised, USD per "
        "vol point."
    )
    hard_vega_usd_per_volpt: float | None = _limit(
        "|Standardised vega| above which an option hedge is proposed, USD per vol point."
    )
    soft_gamma_usd_per_pct: float | None = _limit(
        "|Gamma| above which an alert is raised, USD of delta per 1% move."
    )
    hard_gamma_usd_per_pct: float | None = _limit(
        "|Gamma| above which an option hedge is proposed, USD of delta per 1% move."
    )

    @model_validator(mode="after")
    def _soft_under_hard(self) -> GreekLimitConfig:
        for greek in ("vega_usd_per_volpt", "gamma_usd_per_pct"):
            soft, hard = getattr(self, f"soft_{greek}"), getattr(self, f"hard_{greek}")
            if soft is not None and hard is not None and soft > hard:
                raise ValueError(f"soft_{greek} {soft} is above hard_{greek} {hard}")
        return self

    def limit(self) -> GreekLimit:
        """The domain value."""
        return GreekLimit(
            underlying=Currency(self.underlying),
            bucket=self.bucket,
            soft_vega_usd_per_volpt=self.soft_vega_usd_per_volpt,
            hard_vega_usd_per_volpt=self.hard_vega_usd_per_volpt,
            soft_gamma_usd_per_pct=self.soft_gamma_usd_per_pct,
            hard_gamma_usd_per_pct=self.hard_gamma_usd_per_pct,
        )


class GreekLimitsConfig(FrozenModel):
    """``[greek_limits]``: the buckets and the limits (none by default: nothing is watched)."""

    bucket_edges_days: Array[float] = Field(
        default=(7.0, 30.0, 90.0),
        description=(
            "Upper edges of the expiry buckets, days to expiry, ascending, in (0, 3650]. "
            "Default: [7, 30, 90] (buckets 0-7d, 7-30d, 30-90d, 90d+)."
        ),
    )
    limits: Array[GreekLimitConfig] = Field(
        default=(), description="Limits per underlying and bucket. Default: none."
    )

    @model_validator(mode="after")
    def _check(self) -> GreekLimitsConfig:
        edges = self.bucket_edges_days
        problems: list[tuple[Loc, str]] = []
        if any(not 0 < e <= MAX_EDGE_DAYS for e in edges) or list(edges) != sorted(set(edges)):
            problems.append((("bucket_edges_days",), f"must ascend within (0, 3650], got {edges}"))
        names = {*bucket_labels(edges), ALL}
        for i, lim in enumerate(self.limits):
            if lim.bucket not in names:
                problems.append(
                    (("limits", i, "bucket"), f"{lim.bucket!r} is none of {sorted(names)}")
                )
        keys = [(lim.underlying, lim.bucket) for lim in self.limits]
        problems += [
            (("limits", i, "bucket"), f"a second limit on {keys[i][0]} {keys[i][1]} (limits[{j}])")
            for i, j in repeats(keys)
        ]
        if problems:
            fail_at("greek_limits", problems)
        return self

    def domain_limits(self) -> tuple[GreekLimit, ...]:
        """Every limit as a domain value."""
        return tuple(lim.limit() for lim in self.limits)
