"""Numba's cache of a compiled kernel, kept fresh when any module the kernel imports changes.

numba keys a kernel's cached machine code to the source of the kernel's own file. A kernel
inlines its helpers (:func:`bot.pricing.normal.ndtr_gauss` into
:func:`bot.backtest.book_kernel.price_book`) and freezes the constants it reads, so a
change to ``normal.py`` alone (a ``git pull``) left the old CDF running from the cache.
Here the key covers the kernel's module and every module of its package that it imports,
however indirectly (:func:`imports_digest`); where numba keeps the files is unchanged.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
from collections.abc import Callable
from functools import cache
from typing import Final

from numba.core.caching import (
    CompileResultCacheImpl,
    FunctionCache,
    InTreeCacheLocator,
    UserProvidedCacheLocator,
    UserWideCacheLocator,
)


class _ImportsKeyed:
    """A locator whose source stamp is :func:`imports_digest` of the function's module."""

    _py_file: str

    def __init__(self, py_func: Callable[..., object], py_file: str) -> None:
        super().__init__(py_func, py_file)  # type: ignore[call-arg]
        self._module = py_func.__module__

    def get_source_stamp(self) -> str:
        return imports_digest(self._module, self._py_file)


class _UserProvided(_ImportsKeyed, UserProvidedCacheLocator):
    """In ``NUMBA_CACHE_DIR``, where the user set it."""


class _InTree(_ImportsKeyed, InTreeCacheLocator):
    """Beside the module, in its ``__pycache__``."""


class _UserWide(_ImportsKeyed, UserWideCacheLocator):
    """In the user's cache directory, where the module's own is read-only."""


class _ImportsKeyedImpl(CompileResultCacheImpl):
    """numba's cache implementation, its locators tried in numba's order."""

    _locator_classes: list[type[object]] = [_UserProvided, _InTree, _UserWide]  # noqa: RUF012


class KernelCache(FunctionCache):
    """numba's cache of one function (what ``njit(cache=True)`` gives it), keyed by
    :func:`imports_digest`. RuntimeError where no cache directory can be written."""

    _impl_class = _ImportsKeyedImpl

    def __init__(self, py_func: Callable[..., object]) -> None:
        super().__init__(py_func)  # type: ignore[no-untyped-call]


def imports_digest(module: str, path: str) -> str:
    """SHA-256 over the source of ``module`` (at ``path``) and of every module of its
    top-level package that it imports, directly or through another such module.

    Example: for ``bot.backtest.book_kernel`` it covers ``bot/pricing/normal.py``, which
    it imports, and ``bot/pricing/simd_exp.py``, which ``normal`` imports.
    """
    package = module.partition(".")[0]
    found = {module: path}
    todo = [(module, path)]
    while todo:
        name, file = todo.pop()
        for imported, origin in _package_imports(name, file, package, *_stamp(file)):
            if imported not in found:
                found[imported] = origin
                todo.append((imported, origin))
    digest = hashlib.sha256()
    for name in sorted(found):
        digest.update(f"{name}\0".encode())
        digest.update(_file_digest(found[name], *_stamp(found[name])))
    return digest.hexdigest()


def _stamp(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size


@cache
def _file_digest(path: str, mtime_ns: int, size: int) -> bytes:
    """The file's SHA-256 (memoised per modification time and size: a process hashes each
    file once, however many kernels import it)."""
    del mtime_ns, size
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).digest()


_IMPORT: Final = re.compile(
    r"^[ \t]*(?:from[ \t]+(?P<base>\.*[\w.]*)[ \t]+import[ \t]+(?P<names>\([^)]*\)|[^\n#]*)"
    r"|import[ \t]+(?P<modules>[^\n#]*))",
    re.MULTILINE,
)
"""An import statement at the start of a line: a regular expression, not ``ast.parse``,
which took 77 ms of a process's start-up for the kernels' 35 modules. A line of a
docstring that reads like one adds a name at most, which is kept only if it is a module."""


@cache
def _package_imports(
    module: str, path: str, package: str, mtime_ns: int, size: int
) -> tuple[tuple[str, str], ...]:
    """The modules of ``package`` that ``module``'s source imports, anywhere in the file, by
    name with their source files: ``import a.b`` and ``from a import b`` give ``a.b`` where
    that is a module (else ``a``)."""
    del mtime_ns, size
    with open(path, encoding="utf-8") as f:
        text = f.read()
    is_package = os.path.basename(path) == "__init__.py"
    names: set[str] = set()
    for match in _IMPORT.finditer(text):
        if match["modules"] is not None:
            names.update(_first_words(match["modules"]))
            continue
        base = _absolute(match["base"], module, is_package)
        names.add(base)
        names.update(f"{base}.{name}" for name in _first_words(match["names"].strip("()")))
    found = ((n, _origin(n)) for n in sorted(names) if n.partition(".")[0] == package)
    return tuple((n, origin) for n, origin in found if origin is not None)


def _first_words(listed: str) -> list[str]:
    """``a.b as c, d`` -> ``["a.b", "d"]``."""
    return [item.split()[0] for item in listed.split(",") if item.split()]


def _absolute(base: str, module: str, is_package: bool) -> str:
    """The module ``from base import ...`` names, a relative ``base`` resolved against
    ``module``."""
    name = base.lstrip(".")
    level = len(base) - len(name)
    if not level:
        return name
    parts = module.split(".")
    anchor = parts if is_package else parts[:-1]
    anchor = anchor[: len(anchor) - (level - 1)]
    return ".".join([*anchor, name] if name else anchor)


@cache
def _origin(name: str) -> str | None:
    """The source file of module ``name`` within its top-level package's directory, or None
    where there is none (``from a import f`` names a function, not a module ``a.f``). Found
    on disk, not by ``importlib``: finding ``a.f`` would import ``a``, in the middle of
    another module's import."""
    top, _, rest = name.partition(".")
    root = _package_root(top)
    if root is None:
        return None
    base = os.path.join(root, *rest.split(".")) if rest else root
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(candidate):
            return candidate
    return None


@cache
def _package_root(package: str) -> str | None:
    """The directory of top-level package ``package`` (None for a plain module or none)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    locations = None if spec is None else spec.submodule_search_locations
    return next(iter(locations), None) if locations else None
