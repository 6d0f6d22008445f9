"""Array type aliases shared by every numerical module.

A leaf: it imports numpy only, so ``bot.pricing`` (which ``bot.domain``
builds on) and ``strategies`` may use it without an import cycle.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
"""float64 array of any shape: prices, Greeks, amounts."""
