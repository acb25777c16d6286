"""The pixel measures' shortcuts give exactly the numbers of their plain formulas.

On real photographs composed on the backdrop (kiosk.sim.scenes), with camera noise so that
colours repeat a little or hardly at all: the decisions of the pixel rules sit on these
numbers, so "nearly equal" is not enough.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.photo.checks.common import delta_e_2000, delta_e_2000_pixels
from kiosk.photo.measures.head import shade_distance2
from kiosk.sim.scenes import compose_scene


def _lab(noise: float):
    rgb = compose_scene("hopper", "blue", size=(640, 480), noise=noise, clutter=True)
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def _same(a, b) -> bool:
    """Equal bit for bit, NaN where NaN (CIEDE2000 of two nearly equal colours can be NaN)."""
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("noise", [0.0, 3.0, 25.0])
def test_delta_e_per_distinct_colour_equals_every_pixel(noise):
    lab = _lab(noise)
    px = lab.reshape(-1, 3)[::7]
    ref = np.median(px, axis=0)
    distinct = len(np.unique(px, axis=0))
    assert distinct < px.shape[0]                   # some colours repeat: the grouping is used
    assert _same(delta_e_2000_pixels(px, ref), delta_e_2000(px, ref))


def test_delta_e_colours_sharing_a_key_are_computed_one_by_one():
    # the key XORs the channels' bits shifted by 32 and 16: (0, 1, 0) and (0, 0, 1<<16) collide
    a = np.frombuffer(np.array([0, 1, 0], np.uint32).tobytes(), np.float32)
    b = np.frombuffer(np.array([0, 0, 1 << 16], np.uint32).tobytes(), np.float32)
    lab = _lab(3.0).reshape(-1, 3)[:200].copy()
    lab[::2] = a
    lab[1::2] = b
    ref = np.array([50.0, 10.0, -20.0], np.float32)
    assert _same(delta_e_2000_pixels(lab, ref), delta_e_2000(lab, ref))


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
