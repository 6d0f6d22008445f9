"""Building blocks shared by every config section.

Other sections (strategy, risk, routing, ...) derive from :class:`FrozenModel`
so the whole config is immutable, rejects unknown keys and reports
cross-field problems at the exact key path of the offending entry.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import UTC, datetime
from typing import Annotated, NoReturn, get_args, get_origin

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

Loc = tuple[str | int, ...]
"""A key path inside a section, e.g. ``("book", 3, "venue")``."""

PROBLEM_TYPE = "config_problem"
"""pydantic error type of the problems raised by :func:`fail_at`."""


class FrozenModel(BaseModel):
    """Base of every config model: immutable, no unknown keys, no NaN or infinity."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def fail_at(title: str, problems: Sequence[tuple[Loc, str]]) -> NoReturn:
    """Raise one validation error per ``(loc, message)``, each at its own key path.

    A plain ``ValueError`` from a validator lands on the validated field as a
    whole; cross-field checks must point at the entry at fault
    (``sim.book[3].venue``) and report all such entries at once. pydantic
    prefixes these locations with the validated field's own path.
    """
    raise ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(
                type=PydanticCustomError(PROBLEM_TYPE, "{message}", {"message": message}),
                loc=loc,
                input=None,
            )
            for loc, message in problems
        ],
    )


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""An ISO-8601 datetime with an explicit offset, normalised to UTC (naive times are refused)."""


def nested_model(annotation: object) -> tuple[type[BaseModel], bool] | None:
    """The model inside a field annotation and whether it is a list of them, else None.

    Understands ``Model``, ``Model | None`` and ``tuple[Model, ...]``: enough to
    walk the config tree for error hints and for the documentation test.
    """
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = get_origin(annotation)
    for arg in get_args(annotation):
        found = nested_model(arg)
        if found is not None:
            model, is_list = found
            return model, is_list or origin in (tuple, list)
    return None


def repeats(values: Sequence[Hashable]) -> list[tuple[int, int]]:
    """``(index, first_index)`` of every value seen earlier in ``values``: duplicate names."""
    first: dict[Hashable, int] = {}
    return [(i, first[v]) for i, v in enumerate(values) if first.setdefault(v, i) != i]
