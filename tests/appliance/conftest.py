"""Fixtures for the appliance tests: real photographs, a scratch root file system."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def hopper_path() -> Path:
    """Grace Hopper's portrait, shipped with matplotlib: a real face."""
    from matplotlib import cbook

    return Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


@pytest.fixture(scope="session")
def hopper_rgb(hopper_path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(hopper_path).convert("RGB"))
