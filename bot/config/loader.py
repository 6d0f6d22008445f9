"""Load :class:`Config` from a TOML file with ``DELTABOT_*`` overrides, reporting every problem.

The environment is a parameter, never ``os.environ`` read from in here, so
tests and the CLI decide what the loader sees. Problems come back all at once
as ``(key_path, message)`` pairs (``venues[1].name: ...``), which is what an
operator fixing a file wants, rather than the first exception. Checks across
entries (duplicate names, a book position's venue) run once the entries they
compare are themselves valid, as pydantic validates inside out.

No input makes the loader raise anything but :class:`ConfigError`: a file over
:data:`MAX_FILE_BYTES`, or nested deeper than :data:`MAX_DEPTH` (which could
otherwise exhaust Python's recursion limit, in TOML's parser or here), is one
problem naming the file or the key. Environment values are text; one read by
a key that takes a bool, a number, a datetime or an array is read as the TOML
value it spells (``true``, ``60``, ``0.5``), so the same strict types apply.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum
from pathlib import Path, PurePath
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_settings import EnvSettingsSource, SettingsError

from bot.config.base import PROBLEM_TYPE, Loc, nested_model
from bot.config.model import ENV_NESTED_DELIMITER, ENV_PREFIX, Config
from bot.secrets import credential_vars, is_credential_var, looks_secret

CONFIG_PATH_VAR = "DELTABOT_CONFIG"
"""Environment variable naming the config file when no path is given."""

DEFAULT_CONFIG_PATH = Path("config.example.toml")
"""The file used when neither a path nor ``DELTABOT_CONFIG`` is given (relative to the cwd)."""

MAX_FILE_BYTES = 1 << 20
"""Largest config file read, in bytes (the example is under 30 KiB)."""

MAX_DEPTH = 32
"""Deepest nesting of tables and arrays read (the example needs 5)."""

_SHOWN_INPUT_CHARS = 60


class ConfigError(Exception):
    """The configuration is unusable; ``errors`` lists every ``(key_path, message)``."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(format_problem(path, msg) for path, msg in self.errors))


def format_problem(key_path: str, message: str) -> str:
    """One problem as a line: ``key.path: message``."""
    return f"{key_path}: {message}" if key_path else message


def resolve_config_path(path: Path | None, environ: Mapping[str, str]) -> Path:
    """``path`` if given, else ``$DELTABOT_CONFIG``, else ``config.example.toml``."""
    if path is not None:
        return path
    from_env = environ.get(CONFIG_PATH_VAR, "")
    return Path(from_env) if from_env else DEFAULT_CONFIG_PATH


def load_config(path: Path | None, environ: Mapping[str, str]) -> Config:
    """Validated config from the TOML file at ``path`` (see :func:`resolve_config_path`).

    ``DELTABOT_<FIELD>`` and ``DELTABOT_<SECTION>__<FIELD>`` variables in
    ``environ`` override the file (list entries by index:
    ``DELTABOT_VENUES__0__TESTNET``). Raises :class:`ConfigError`.
    """
    file_path = resolve_config_path(path, environ)
    data = _read_toml(file_path)
    errors: list[tuple[str, str]] = []
    overrides = _env_overrides(environ, errors)
    deep = [(_format_loc(loc), msg) for loc, msg in _too_deep(data)]
    deep += [
        (_format_loc(loc), f"{msg} (from the environment)") for loc, msg in _too_deep(overrides)
    ]
    if deep:  # walking on would recurse as deep as the nesting goes
        raise ConfigError([*errors, *deep])
    env_paths = _leaf_paths(overrides, ())
    merged = _merge(data, _typed(overrides, ()), (), errors)
    errors.extend(_from_env(loc, msg, env_paths) for loc, msg in _pop_secrets(merged, ()))
    # Exact keys only (the settings model itself matches them in any case); and no _keys,
    # which would reach BaseSettings' init options.
    for key in [k for k in merged if k not in Config.model_fields]:
        errors.append((key, _message("extra_forbidden", "", {}, None, (key,))))
        del merged[key]
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        errors.extend(_from_env(loc, msg, env_paths) for loc, msg in _describe(exc))
    if errors:
        raise ConfigError(errors)
    return config


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            problem = f"config file is larger than {MAX_FILE_BYTES // 1024} KiB: not a config"
        else:
            return tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        problem = "config file not found"
    except UnicodeDecodeError as exc:
        problem = f"config file is not UTF-8 text ({exc.reason} at byte {exc.start})"
    except OSError as exc:
        problem = f"cannot read the config file: {exc.strerror or exc}"
    except tomllib.TOMLDecodeError as exc:
        problem = f"TOML syntax error: {exc}"
    except RecursionError:
        problem = f"arrays or tables nested too deeply to read (a config needs {MAX_DEPTH} at most)"
    raise ConfigError([(str(path), problem)])


def _too_deep(data: Any) -> list[tuple[Loc, str]]:
    """The key holding the first value nested deeper than :data:`MAX_DEPTH`, if any.

    Walks without recursion, so any depth the parser returned is safe to measure.
    """
    stack: list[tuple[Loc, Any]] = [((), data)]
    while stack:
        loc, node = stack.pop()
        if len(loc) > MAX_DEPTH:
            key = max((i for i, part in enumerate(loc) if isinstance(part, str)), default=0)
            return [(loc[: key + 1], f"nested more than {MAX_DEPTH} levels deep")]
        if isinstance(node, dict):
            stack.extend(((*loc, k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(((*loc, i), v) for i, v in enumerate(node))
    return []


class _InjectedEnvSource(EnvSettingsSource):
    """pydantic-settings' environment parsing over a given mapping instead of ``os.environ``."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(Config)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {name.lower(): value for name, value in self._environ.items()}


def _env_overrides(environ: Mapping[str, str], errors: list[tuple[str, str]]) -> dict[str, Any]:
    relevant = {
        name: value
        for name, value in environ.items()
        if name.upper().startswith(ENV_PREFIX)
        and name.upper() != CONFIG_PATH_VAR
        and not is_credential_var(name)
    }
    for name in list(relevant):
        head, nested, _ = name[len(ENV_PREFIX) :].partition(ENV_NESTED_DELIMITER)
        if nested and head.lower() not in Config.model_fields:
            errors.append((name, f"unknown config section {head.lower()!r}"))
        if _bracket_depth(relevant[name]) > MAX_DEPTH:  # its JSON would exhaust the recursion
            errors.append((name, f"nested more than {MAX_DEPTH} levels deep"))
            del relevant[name]
    try:
        return dict(_InjectedEnvSource(relevant)())
    except SettingsError as exc:
        field = re.search(r'field "(\w+)"', str(exc))
        name = ENV_PREFIX + field.group(1).upper() if field else "environment"
        errors.append((name, f"not a valid value: {exc.__cause__ or exc}"))
        return {}


def _bracket_depth(text: str) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets in strings count too)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _typed(data: Any, loc: Loc) -> Any:
    """Environment text read as the TOML value it spells where the key takes no text.

    ``DELTABOT_VENUES__0__TESTNET=true`` is the bool true and ``..._ORDER_WINDOW_S=60``
    the number 60; ``yes`` stays text (and is refused by a bool), and a key taking text
    (a name, an account, ``subaccount_wallet = "18"``) keeps the text as given.
    """
    if isinstance(data, dict):
        return {key: _typed(value, (*loc, key)) for key, value in data.items()}
    if isinstance(data, list):
        return [_typed(value, (*loc, i)) for i, value in enumerate(data)]
    if not isinstance(data, str) or _takes_text(loc):
        return data
    try:
        return tomllib.loads(f"v = {data}")["v"]
    except tomllib.TOMLDecodeError:
        return data


def _merge(base: Any, override: Any, loc: Loc, errors: list[tuple[str, str]]) -> Any:
    """``override`` over ``base``; a dict of digit keys over a list overrides entries by index."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base[key], value, (*loc, key), errors) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(override, dict) and all(map(str.isdigit, override)):
        entries = list(base)
        for key, value in override.items():
            index = int(key)
            if index < len(entries):
                entries[index] = _merge(entries[index], value, (*loc, index), errors)
            else:
                var = _env_name((_leaf_paths(value, (*loc, key)) or [(*loc, key)])[0])
                errors.append((var, f"there is no {_format_loc((*loc, index))} to override"))
        return entries
    return override


def _pop_secrets(data: Any, loc: Loc) -> list[tuple[Loc, str]]:
    """Remove secret-looking keys (anywhere) and say which variable to set instead."""
    errors: list[tuple[Loc, str]] = []
    if isinstance(data, dict):
        for key in list(data):
            if looks_secret(key):
                del data[key]
                errors.append(((*loc, key), _secret_hint(data, loc, key)))
            else:
                errors.extend(_pop_secrets(data[key], (*loc, key)))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            errors.extend(_pop_secrets(item, (*loc, index)))
    return errors


def _secret_hint(entry: dict[str, Any], loc: Loc, key: str) -> str:
    head = (
        "looks like a secret; secrets are never read from the config file, "
        "only from the environment"
    )
    if len(loc) != 2 or loc[0] != "venues":
        return f"{head} (venue keys: DELTABOT_VENUE_<NAME>_API_KEY, _API_SECRET)"
    name = entry.get("name")
    names = credential_vars(
        name if isinstance(name, str) else "<name>", testnet=entry.get("testnet") is True
    )
    lowered = key.lower()
    var = (
        names.api_secret
        if "secret" in lowered
        else names.password
        if "pass" in lowered
        else names.api_key
    )
    return f"{head}: set {var} instead"


def _leaf_paths(data: Any, loc: Loc) -> list[Loc]:
    if isinstance(data, dict):
        return [p for key, value in data.items() for p in _leaf_paths(value, (*loc, key))]
    return [loc]


def _describe(exc: ValidationError) -> list[tuple[Loc, str]]:
    return [
        (
            tuple(err["loc"]),
            _message(err["type"], err["msg"], err.get("ctx", {}), err["input"], tuple(err["loc"])),
        )
        for err in exc.errors(include_url=False)
    ]


def _from_env(loc: Loc, message: str, env_paths: list[Loc]) -> tuple[str, str]:
    """The problem as ``(key_path, message)``, naming the variable when one set the value."""
    origin = next((p for p in env_paths if _loc_key(loc[: len(p)]) == _loc_key(p)), None)
    if origin is not None:
        message += f" (from {_env_name(origin)})"
    return _format_loc(loc), message


def _message(kind: str, msg: str, ctx: dict[str, Any], value: Any, loc: Loc) -> str:
    if kind == PROBLEM_TYPE:
        return str(ctx["message"])
    if kind == "value_error":
        return str(ctx["error"])
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return "unknown key" + (f" (allowed here: {', '.join(allowed)})" if allowed else "")
    if kind == "timezone_aware":
        msg = "needs a UTC offset, e.g. 2026-12-01T08:00:00Z"
    return f"{msg} (got {_show(value)})"


def _allowed_keys(loc: Loc) -> list[str]:
    model = _model_at(loc)
    return list(model.model_fields) if model is not None else []


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model of the table at ``loc`` (list indices skipped), None below a plain value."""
    model: type[BaseModel] = Config
    for part in loc:
        if _is_index(part):
            continue
        field = model.model_fields.get(str(part))
        found = nested_model(field.annotation) if field is not None else None
        if found is None:
            return None
        model = found[0]
    return model


def _takes_text(loc: Loc) -> bool:
    """Whether the key at ``loc``, or the array item it indexes, takes text."""
    keys = [i for i, part in enumerate(loc) if not _is_index(part)]
    model = _model_at(loc[: keys[-1]]) if keys else None
    field = model.model_fields.get(str(loc[keys[-1]])) if model is not None else None
    if field is None:
        return False
    annotation = field.annotation
    if _is_index(loc[-1]) and get_origin(annotation) is tuple:
        annotation = get_args(annotation)[0]
    return _is_text(annotation)


def _is_index(part: str | int) -> bool:
    """An array index, or one an environment variable gave (``VENUES__0__...``)."""
    return isinstance(part, int) or part.isdigit()


def _is_text(annotation: Any) -> bool:
    """A string, an enum or a path, also as ``X | None`` or ``Annotated[X, ...]``."""
    if isinstance(annotation, type):
        return issubclass(annotation, str | Enum | PurePath)
    supertype = getattr(annotation, "__supertype__", None)  # a NewType such as VenueId
    if supertype is not None:
        return _is_text(supertype)
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _is_text(args[0])
    if origin is Literal:
        return all(isinstance(arg, str) for arg in args)
    if origin in (Union, UnionType):
        return all(_is_text(arg) for arg in args if arg is not type(None))
    return False


def _show(value: Any) -> str:
    text = value.isoformat() if isinstance(value, datetime) else repr(value)
    if len(text) > _SHOWN_INPUT_CHARS:
        text = text[: _SHOWN_INPUT_CHARS - 3] + "..."
    return text


def _loc_key(loc: Sequence[str | int]) -> tuple[str, ...]:
    return tuple(str(part).lower() for part in loc)


def _env_name(loc: Sequence[str | int]) -> str:
    return ENV_PREFIX + ENV_NESTED_DELIMITER.join(str(part).upper() for part in loc)


def _format_loc(loc: Sequence[str | int]) -> str:
    """``("venues", 1, "name")`` -> ``venues[1].name``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
