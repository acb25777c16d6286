"""The photo engine's arrays, named by what they hold (numpy.typing aliases, for mypy).

numpy checks no shapes statically: each annotation's comment says the shape.
"""

from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

#: An 8-bit RGB image, H×W×3.
RGB: TypeAlias = NDArray[np.uint8]
#: A region of an image, H×W: True inside.
Mask: TypeAlias = NDArray[np.bool_]
#: Measured values of either float precision: landmarks, CIELAB pixels, distances, masks in [0, 1].
Floats: TypeAlias = NDArray[np.floating[Any]]
