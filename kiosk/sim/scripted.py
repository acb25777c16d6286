"""Scenes that change over time: the simulator's and the tests' students, who walk in and settle.

A :class:`ScriptedScene` is a callable ``t -> RGB frame``, which is all the fake camera
(:mod:`hardware.fake_camera`) needs; the hardware layer knows nothing of faces or the standard.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np


def _lerp(a: Any, b: Any, u: float) -> Any:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return a + (b - a) * u
    return a if u < 1.0 else b


def _smooth(u: float) -> float:
    """Ease in and out: a person slows down as they arrive where they want to be."""
    return u * u * (3 - 2 * u)


class ScriptedScene:
    """A scene that changes over time: keyframes of :func:`kiosk.sim.scenes.compose_scene` arguments.

    ``keyframes`` is a sequence of ``(t_seconds, {argument: value})``. Between two keyframes the
    numeric arguments (``dx``, ``dy``, ``scale``, …) move smoothly from one value to the next;
    the others (``face``, ``backdrop``) switch when the next keyframe is reached. After the last
    keyframe the scene holds still. Call it with a time to get the frame: it is a valid source
    for :class:`hardware.frame_sources.CallableSource`, and so for the fake camera.

    ``compose`` defaults to :func:`kiosk.sim.scenes.compose_scene` (imported on first use).
    Its geometry is in fractions of the frame, so the scene can be drawn at any ``size``
    with the same framing: the fake camera draws its preview at 640×480 directly.
    """

    draws_any_size = True

    def __init__(self, keyframes: Sequence[tuple[float, dict[str, Any]]], *,
                 compose: Callable[..., np.ndarray] | None = None, **common: Any) -> None:
        if not keyframes:
            raise ValueError("a scripted scene needs at least one keyframe")
        self.keyframes = sorted(((float(t), dict(kw)) for t, kw in keyframes), key=lambda k: k[0])
        self.common = common
        self._compose = compose
        self._held: dict[tuple, np.ndarray] = {}

    def arguments_at(self, t: float) -> dict[str, Any]:
        """The ``compose_scene`` arguments at time ``t`` (the common ones included)."""
        frames = self.keyframes
        if t <= frames[0][0]:
            args = frames[0][1]
        elif t >= frames[-1][0]:
            args = frames[-1][1]
        else:
            for (t0, a), (t1, b) in zip(frames, frames[1:]):
                if t0 <= t < t1:
                    u = _smooth((t - t0) / (t1 - t0)) if t1 > t0 else 1.0
                    args = {k: _lerp(a[k], b.get(k, a[k]), u) for k in a}
                    args.update({k: v for k, v in b.items() if k not in a})
                    break
        merged = dict(self.common)
        merged.update(args)
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in merged.items()}

    def __call__(self, t: float, size: tuple[int, int] | None = None) -> np.ndarray:
        args = self.arguments_at(t)
        if size is not None:
            args["size"] = tuple(size)
        key = tuple(sorted((k, repr(v)) for k, v in args.items()))
        if key in self._held:
            return self._held[key]   # holding still: no need to compose again
        compose = self._compose
        if compose is None:
            from kiosk.sim.scenes import compose_scene

            compose = compose_scene
        frame = compose(**args)
        if len(self._held) >= 4:
            self._held.pop(next(iter(self._held)))
        self._held[key] = frame
        return frame


def student_walks_in(face: str = "astronaut", backdrop: str = "blue", *,
                     size: tuple[int, int] = (1440, 1080), settle_s: float = 4.0,
                     **variations: Any) -> ScriptedScene:
    """The simulator's student: starts off-centre and too far away, then steps into place.

    0 s: shifted to the side, a little high and too small (too far from the camera);
    ``settle_s``: centred at the right distance, then holds still (so live guidance can pass
    and the booth captures). ``variations`` go to every frame (lighting, glasses, …).
    """
    return ScriptedScene(
        [
            (0.0, {"dx": 0.22, "dy": -0.08, "scale": 0.7}),
            (settle_s * 0.5, {"dx": 0.08, "dy": -0.03, "scale": 0.85}),
            (settle_s, {"dx": 0.0, "dy": 0.0, "scale": 1.0}),
        ],
        face=face, backdrop=backdrop, size=size, **variations,
    )
