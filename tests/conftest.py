"""Shared fixtures: one Analyzer for the whole session, and a cached factory of booth scenes.

Scenes are real photographs (scikit-image's astronaut, matplotlib's Grace Hopper) composed on
a booth backdrop by kiosk.sim.scenes; analysing them is the slow part, so each distinct scene
is composed and analysed once per session.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

os.environ.setdefault("GLOG_minloglevel", "2")


class SceneFactory:
    """``scenes(face=..., backdrop=..., **variations)`` -> (rgb, analysis, crop plan), cached."""

    def __init__(self, analyzer) -> None:
        self.analyzer = analyzer
        self._cache: dict = {}

    def __call__(self, **kwargs):
        key = tuple(sorted((k, repr(v)) for k, v in kwargs.items()))
        if key not in self._cache:
            from kiosk.photo.crop import plan_crop
            from kiosk.sim.scenes import compose_scene
            rgb = compose_scene(**kwargs)
            analysis = self.analyzer.analyze(rgb)
            self._cache[key] = (rgb, analysis, plan_crop(analysis))
        return self._cache[key]


@pytest.fixture(scope="session")
def analyzer():
    """One mediapipe Analyzer for the whole test session (the models load once)."""
    from kiosk.photo.analysis import Analyzer
    a = Analyzer()
    yield a
    a.close()


@pytest.fixture(scope="session")
def scenes(analyzer) -> SceneFactory:
    return SceneFactory(analyzer)


def _rotate(face, yaw_deg=0.0, pitch_deg=0.0):
    """Turn the real landmarks in 3D (FaceMesh x, y, z) about the face centre and project back.

    A photograph cannot turn its head; this derives a turned head from the real landmarks.
    """
    p = np.column_stack([face.landmarks, face.depth]).astype(np.float64)
    c = p[[234, 454]].mean(axis=0)
    c[2] = p[:, 2].mean()
    q = p - c
    y, x = math.radians(yaw_deg), math.radians(pitch_deg)
    # yaw: nose toward +x (image right = the person's left). FaceMesh z < 0 is toward the camera
    ry = np.array([[math.cos(y), 0, -math.sin(y)], [0, 1, 0], [math.sin(y), 0, math.cos(y)]])
    # pitch: nose up (toward -y) = chin up
    rx = np.array([[1, 0, 0], [0, math.cos(x), math.sin(x)], [0, -math.sin(x), math.cos(x)]])
    return (q @ ry.T @ rx.T + c)[:, :2]


@pytest.fixture(scope="session")
def rotate_landmarks():
    """``rotate_landmarks(face, yaw_deg=, pitch_deg=)`` -> 478×2 landmarks of a turned head."""
    return _rotate
