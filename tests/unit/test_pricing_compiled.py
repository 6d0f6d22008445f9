"""Kernels compiled once for their signatures: the types they take, nothing else; their
cached machine code as fresh as every module they import."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
import pytest
from numba.core import caching

from bot.pricing.compiled import compiled
from bot.pricing.kernel_cache import imports_digest

REPO = Path(__file__).resolve().parents[2]


def _twice(x: float) -> float:
    return 2.0 * x


def test_a_kernel_takes_its_signature_and_refuses_other_types() -> None:
    """Compiled for float64 at decoration: 1.5 gives 3.0, an array is refused, not compiled."""
    kernel = compiled("float64(float64)")(_twice)
    assert kernel(1.5) == 3.0
    with pytest.raises(TypeError):
        kernel(np.ones(2))  # type: ignore[arg-type]


def test_an_unwritable_cache_compiles_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where numba may write no cache (read-only tree, no home), a kernel compiles, not fails."""

    def read_only(self: object) -> None:
        raise PermissionError("read-only file system")

    monkeypatch.setattr(caching._CacheLocator, "ensure_cache_path", read_only)
    with pytest.raises(RuntimeError, match="no locator available"):
        numba.njit(cache=True)(_twice)
    kernel: Callable[[float], float] = compiled()(_twice)
    assert kernel(2.5) == 5.0


_RUN = """
from kpkg.kernel import kernel
print(kernel(1.0), sum(kernel.stats.cache_hits.values()))
"""


def _run_kernel(root: Path) -> tuple[float, int]:
    """kpkg.kernel.kernel(1.0) in a fresh process, and how many times its cache was hit."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(REPO)])}
    out = subprocess.run(
        [sys.executable, "-c", _RUN], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), int(out[1])


def test_a_cached_kernel_is_recompiled_when_a_module_it_imports_changes(tmp_path: Path) -> None:
    """A kernel loaded from the cache while its sources stand still is recompiled when its
    inlined helper or a constant module it imports changes, though its own file does not."""
    package = tmp_path / "kpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "consts.py").write_text("SCALE = 10.0\n")
    helper = "from bot.pricing.compiled import compiled\n\n@compiled(inline=True)\ndef bump(x):\n"
    (package / "helper.py").write_text(helper + "    return x + 1.0\n")
    (package / "kernel.py").write_text(
        "from bot.pricing.compiled import compiled\n"
        "from kpkg.consts import SCALE\n"
        "from kpkg.helper import bump\n\n"
        '@compiled("float64(float64)")\n'
        "def kernel(x):\n"
        "    return bump(x) * SCALE\n"
    )
    assert _run_kernel(tmp_path) == (20.0, 0)  # compiled, cache written
    assert _run_kernel(tmp_path) == (20.0, 1)  # loaded from the cache
    (package / "helper.py").write_text(helper + "    return x + 2.0\n")
    assert _run_kernel(tmp_path) == (30.0, 0)
    (package / "consts.py").write_text("SCALE = 100.0\n")
    assert _run_kernel(tmp_path) == (300.0, 0)
    assert _run_kernel(tmp_path) == (300.0, 1)


def test_the_cache_key_follows_relative_imports_and_content_not_timestamps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key changes with a module imported relatively (``from .consts import``) and not
    when a file is rewritten unchanged or a module the kernel does not import changes."""
    package = tmp_path / "relpkg"
    (package / "sub").mkdir(parents=True)
    for init in (package / "__init__.py", package / "sub" / "__init__.py"):
        init.write_text("")
    (package / "consts.py").write_text("SCALE = 1.0\n")
    (package / "unrelated.py").write_text("X = 1\n")
    kernel = package / "sub" / "kernel.py"
    kernel.write_text("from ..consts import SCALE\nfrom . import helper\n")
    (package / "sub" / "helper.py").write_text("Y = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    def key() -> str:
        return imports_digest("relpkg.sub.kernel", str(kernel))

    first = key()
    (package / "unrelated.py").write_text("X = 2\n")
    (package / "consts.py").write_text("SCALE = 1.0\n")  # rewritten, the same text
    assert key() == first
    # Sizes differ too: a file's digest is memoised per timestamp and size, and two writes
    # may share a timestamp tick.
    (package / "sub" / "helper.py").write_text("Y = 22\n")
    second = key()
    assert second != first
    (package / "consts.py").write_text("SCALE = 20.0\n")
    assert key() not in (first, second)
