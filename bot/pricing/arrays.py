"""Array type aliases shared by every numerical module.

A leaf at the bottom floor: it imports numpy only, so ``bot.pricing``, the
domain above it and ``strategies`` all take their array types from here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
"""float64 array of any shape: prices, Greeks, amounts."""
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]
