"""The pixel measures' shortcut gives exactly the numbers of its plain formula.

On real photographs composed on the backdrop (kiosk.sim.scenes), with camera noise so that
colours differ a little or a lot: the decisions of the pixel rules sit on these
numbers, so "nearly equal" is not enough.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.photo.measures.head import shade_distance2
from kiosk.sim.scenes import compose_scene


def _lab(noise: float):
    rgb = compose_scene("hopper", "blue", size=(640, 480), noise=noise, clutter=True)
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def _same(a, b) -> bool:
    """Equal bit for bit, NaN where NaN."""
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("noise", [0.0, 25.0])
def test_shade_distance_equals_the_dot_product(noise):
    lab = _lab(noise)
    ref = np.median(lab.reshape(-1, 3), axis=0)
    d = lab - ref
    d[..., 0] *= 0.5
    assert _same(shade_distance2(lab, ref), np.einsum("...i,...i->...", d, d))
    px = lab[lab[..., 0] > 50]                        # a selection (N×3), as the regions pass
    dp = px - ref
    dp[..., 0] *= 0.5
    assert _same(shade_distance2(px, ref), np.einsum("...i,...i->...", dp, dp))
