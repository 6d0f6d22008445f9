"""Typed reads of JSON-RPC parameters; a bad one is Deribit's 11050 naming the parameter.

A GET query carries every value as a string (ccxt sends ``true``/``false`` for
booleans), a POST JSON-RPC body carries typed JSON: both are accepted here so
the method handlers never parse strings themselves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from typing import Any

from bot.sim.errors import bad_param


class Params:
    """Read-only view of one request's parameters."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = dict(raw)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._raw)

    def text(self, name: str, default: str | None = None) -> str:
        """A non-empty string; ``default`` when absent, an error when there is none."""
        value = self.opt_text(name)
        if value is not None:
            return value
        if default is None:
            raise bad_param(name, "value required")
        return default

    def opt_text(self, name: str) -> str | None:
        value = self._raw.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise bad_param(name, "string expected")
        return value

    def number(self, name: str) -> float:
        """A required finite number."""
        value = self.opt_number(name)
        if value is None:
            raise bad_param(name, "value required")
        return value

    def opt_number(self, name: str) -> float | None:
        value = self._raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise bad_param(name, "number expected")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise bad_param(name, "number expected") from None
        if not math.isfinite(number):
            raise bad_param(name, "finite number expected")
        return number

    def integer(self, name: str, default: int | None = None) -> int:
        """An integer; ``default`` when absent, an error when there is none."""
        value = self.opt_integer(name)
        if value is not None:
            return value
        if default is None:
            raise bad_param(name, "value required")
        return default

    def opt_integer(self, name: str) -> int | None:
        value = self._raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise bad_param(name, "integer expected")
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise bad_param(name, "integer expected")

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean: JSON true/false or the strings ``true``/``false``."""
        value = self._raw.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise bad_param(name, "boolean expected")

    def choice(self, name: str, allowed: tuple[str, ...]) -> str | None:
        """An optional string restricted to ``allowed``."""
        value = self.opt_text(name)
        if value is not None and value not in allowed:
            raise bad_param(name, f"must be one of {', '.join(allowed)}")
        return value


_SCALARS = (str, int, float, bool, type(None))
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def to_json(value: Any) -> Any:
    """A view (frozen dataclass whose fields are Deribit result keys) or a list of them as JSON.

    Field by field rather than :func:`dataclasses.asdict`, which deep-copies every
    value: a chain's book summaries are hundreds of views per read, on the path
    from an index move to the hedge order.
    """
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES.get(type(value))
        if names is None:
            names = _FIELD_NAMES[type(value)] = tuple(f.name for f in fields(value))
        return {name: to_json(getattr(value, name)) for name in names}
    return value
