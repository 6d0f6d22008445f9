"""Building blocks shared by every config section.

Other sections (strategy, risk, routing, ...) derive from :class:`FrozenModel`
so the whole config is immutable, rejects unknown keys and reports
cross-field problems at the exact key path of the offending entry.

Types are strict: TOML has them, so ``"yes"``, ``1`` or ``"60"`` where a bool,
a number or a table belongs are refused rather than coerced. The one
conversion kept is an integer where a float belongs (TOML ``30`` for 30.0),
which pydantic's strict mode allows. Three TOML shapes need a word to pydantic's
strict mode, which takes Python types only: an array becomes a tuple
(:data:`Array`), a string names an enum member (:data:`Choice`), and a
datetime may also be given as ISO-8601 text (:data:`UtcDatetime`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, NoReturn, TypeVar, get_args, get_origin

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Strict,
    ValidationError,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

Loc = tuple[str | int, ...]
"""A key path inside a section, e.g. ``("book", 3, "venue")``."""

PROBLEM_TYPE = "config_problem"
"""pydantic error type of the problems raised by :func:`fail_at`."""


STRICT = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, strict=True)
"""Settings of every config model: immutable, no unknown keys, no NaN or infinity, no coercion."""

_T = TypeVar("_T")
_E = TypeVar("_E", bound=Enum)

Array = Annotated[tuple[_T, ...], Strict(False)]
"""A TOML array, kept as a tuple; its items stay strict (``[1, "2"]`` is no tuple of floats)."""

Choice = Annotated[_E, Strict(False)]
"""An enum member named by its value (``mode = "sim"``); any other value is refused."""


class FrozenModel(BaseModel):
    """Base of every config model: immutable, no unknown keys, no NaN or infinity, strict."""

    model_config = STRICT


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


def reraise_at(title: str, loc: Loc, exc: ValidationError) -> NoReturn:
    """Raise the problems of a nested validation (a strategy's own params, say) under ``loc``.

    Each keeps its own type and message, so it reads as any other key's problem.
    """
    raise ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(
                type=err["type"],
                loc=(*loc, *err["loc"]),
                input=err["input"],
                ctx=err.get("ctx", {}),
            )
            for err in exc.errors(include_url=False)
        ],
    )


def _from_iso(value: object) -> object:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, BeforeValidator(_from_iso), AfterValidator(_to_utc)]
"""A TOML datetime (or its ISO-8601 text) with an explicit offset, normalised to UTC (naive
times are refused)."""


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
