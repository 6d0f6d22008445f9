"""Find a strategy by name and build it from its TOML table.

Built-ins are listed explicitly, so a typo or a missing import cannot make one
silently disappear. Third-party strategies register under the
``deltabot.strategies`` entry-point group, e.g. in their ``pyproject.toml``::

    [project.entry-points."deltabot.strategies"]
    my_band = "my_package.my_band:MyBand"

A plugin is imported only when its name is asked for (or when everything is
listed), so a broken plugin cannot stop a built-in strategy from loading.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from types import MappingProxyType
from typing import Final, cast

from pydantic import BaseModel, ValidationError

from strategies.band import Band
from strategies.base import Strategy
from strategies.interval import Interval
from strategies.whalley_wilmott import WhalleyWilmott
from strategies.zakamouline import Zakamouline

ENTRY_POINT_GROUP: Final = "deltabot.strategies"

BUILTINS: Final[Mapping[str, type[Strategy]]] = MappingProxyType(
    {
        "interval": Interval,
        "band": Band,
        "whalley_wilmott": WhalleyWilmott,
        "zakamouline": Zakamouline,
    }
)


class StrategyError(ValueError):
    """A strategy cannot be found, loaded or configured; the message says which and why."""


class UnknownStrategyError(StrategyError):
    """No built-in or installed strategy has the name asked for."""


def _entry_points() -> tuple[EntryPoint, ...]:
    """Installed third-party strategies (the one place that reads package metadata)."""
    return tuple(entry_points(group=ENTRY_POINT_GROUP))


def available_strategies() -> dict[str, type[Strategy]]:
    """Every strategy by name: the built-ins, then each installed plugin (imported here).

    Raises :class:`StrategyError` naming a plugin that fails to load or whose
    name is already taken.
    """
    found: dict[str, type[Strategy]] = dict(BUILTINS)
    for ep in _entry_points():
        if ep.name in found:
            raise StrategyError(
                f"strategy name {ep.name!r} is taken twice: entry point {ep.value!r} "
                f"clashes with {_origin(ep.name, found[ep.name])}"
            )
        found[ep.name] = _load(ep)
    return found


def load_strategy(name: str, params: Mapping[str, object]) -> Strategy:
    """The strategy ``name`` built from ``params`` validated by its ``Params`` model.

    Raises :class:`StrategyError` for an unknown name (listing the available
    ones), a plugin that fails to load, or invalid params (one ``path: message``
    per problem).
    """
    return strategy_class(name)(validate_params(name, params))


def strategy_class(name: str) -> type[Strategy]:
    """The class registered as ``name`` (raises :class:`StrategyError` if there is none)."""
    return BUILTINS.get(name) or _third_party(name)


def validate_params(name: str, params: Mapping[str, object]) -> BaseModel:
    """``params`` as strategy ``name``'s typed ``Params`` model, validated once."""
    cls = strategy_class(name)
    try:
        return cls.Params.model_validate(dict(params))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or '(params)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise StrategyError(f"invalid params for strategy {name!r}: {problems}") from None


def _third_party(name: str) -> type[Strategy]:
    eps = _entry_points()
    matches = [ep for ep in eps if ep.name == name]
    if not matches:
        names = ", ".join(sorted({*BUILTINS, *(ep.name for ep in eps)}))
        raise UnknownStrategyError(f"unknown strategy {name!r}; available: {names}")
    if len(matches) > 1:
        values = ", ".join(repr(ep.value) for ep in matches)
        raise StrategyError(f"strategy name {name!r} is taken twice: entry points {values}")
    return _load(matches[0])


def _load(ep: EntryPoint) -> type[Strategy]:
    where = f"third-party strategy {ep.name!r} (entry point {ep.value!r})"
    try:
        obj = ep.load()
    except Exception as exc:  # a plugin can fail in any way while importing
        raise StrategyError(f"{where} failed to load: {type(exc).__name__}: {exc}") from exc
    problem = _not_a_strategy(ep.name, obj)
    if problem:
        raise StrategyError(f"{where} is not a strategy class: {problem}")
    return cast("type[Strategy]", obj)


def _not_a_strategy(name: str, obj: object) -> str:
    """What keeps ``obj`` from being the strategy class registered as ``name`` ('' if nothing)."""
    if not isinstance(obj, type):
        return f"got {type(obj).__name__}, not a class"
    if getattr(obj, "name", None) != name:
        return f"its name is {getattr(obj, 'name', None)!r}, not {name!r}"
    params = getattr(obj, "Params", None)
    if not (isinstance(params, type) and issubclass(params, BaseModel)):
        return "it has no Params pydantic model"
    if not callable(getattr(obj, "target_hedge", None)):
        return "it has no target_hedge method"
    return ""


def _origin(name: str, cls: type[Strategy]) -> str:
    if BUILTINS.get(name) is cls:
        return "the built-in strategy"
    return f"another entry point ({cls.__module__}.{cls.__qualname__})"
