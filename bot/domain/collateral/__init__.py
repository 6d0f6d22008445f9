"""Cross-venue collateral: the optimizer's inputs, its plan, and the solver (issue 5 §2).

Pure like the rest of :mod:`bot.domain`: the snapshot time is a parameter and
nothing here talks to a venue. :func:`optimize` turns a
:class:`CollateralSnapshot` into a :class:`PlanResult`.
"""

from bot.domain.collateral.model import (
    DEFAULT_TRUST,
    AccountCollateral,
    AccountKey,
    CollateralSnapshot,
    InFlightTransfer,
    MarginBand,
    OptimizerSettings,
    Route,
    TrustSettings,
)
from bot.domain.collateral.optimizer import optimize
from bot.domain.collateral.plan import (
    AccountOutcome,
    AccountStatus,
    CapBreach,
    PlanCost,
    PlannedTransfer,
    PlanResult,
    PlanStatus,
    Shortfall,
    ShortfallReason,
    TransferPlan,
)

__all__ = [
    "DEFAULT_TRUST",
    "AccountCollateral",
    "AccountKey",
    "AccountOutcome",
    "AccountStatus",
    "CapBreach",
    "CollateralSnapshot",
    "InFlightTransfer",
    "MarginBand",
    "OptimizerSettings",
    "PlanCost",
    "PlanResult",
    "PlanStatus",
    "PlannedTransfer",
    "Route",
    "Shortfall",
    "ShortfallReason",
    "TransferPlan",
    "TrustSettings",
    "optimize",
]
