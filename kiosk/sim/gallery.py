"""Screenshots of every live-guidance state, from real composed scenes (tools/guide-screenshots).

Each state is a real photograph composed into a booth scene (kiosk.sim.scenes), scaled to the
camera's 640×480 preview, analysed with the booth's live path (models, crop plan, checks) and
turned into ONE instruction by the booth's `Guide`, then drawn by the booth's own screens.
What a photograph cannot do (raise or lower its chin) is the pose check's own instruction
put on the real analysed scene, and named so in ``STATES``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

PREVIEW = (640, 480)
STILL = (1440, 1080)          # the composed scene's size: the "still" the preview is a view of


@dataclass(frozen=True)
class GuideState:
    name: str
    scene: dict = field(default_factory=dict)   # compose_scene arguments; None: nobody there
    hint: Any = None              # a check's instruction put on the scene (what a photo cannot do)
    countdown: bool = False


def _states():
    from kiosk.photo.checks import pose

    return (
        GuideState("no_face", scene=None),
        GuideState("move_left", {"dx": -0.4}),
        GuideState("move_right", {"dx": 0.4}),
        GuideState("closer", {"scale": 0.5}),
        GuideState("further", {"scale": 2.0, "dy": 0.1}),
        GuideState("lower", {"dy": -0.15}),
        GuideState("higher", {"dy": 0.3}),
        GuideState("tilt", {"roll_deg": 9.0}),
        GuideState("raise_chin", {}, hint=("pose.pitch", pose.CHIN_UP)),
        GuideState("lower_chin", {}, hint=("pose.pitch", pose.CHIN_DOWN)),
        GuideState("hold_still", {}),
        GuideState("countdown", {}, countdown=True),
    )


#: Who stands in the scenes. Grace Hopper (matplotlib's photograph) moves through the position
#: states: her officer's cap fails attire.headwear, but each move instruction outranks it.
#: Standing right (hold still, countdown) is a bareheaded real face of the labelled set
#: (tests/data/faces.json, fetched by `make setup`), his own ≈10° head tilt mostly straightened.
FACE = "hopper"
STANDING_RIGHT, STANDING_RIGHT_ROLL_DEG = "franck-front", -5.5


def scene_frame(state: GuideState, face: str | None = None) -> np.ndarray:
    """The 640×480 preview frame of a state's scene."""
    from hardware.camera import downscale
    from kiosk.sim.scenes import backdrop_color, compose_scene

    if state.scene is None:        # the empty booth: the backdrop alone
        return np.full((PREVIEW[1], PREVIEW[0], 3), backdrop_color("blue"), np.uint8)
    scene = dict(state.scene)
    if face is None and not scene:
        face, scene = STANDING_RIGHT, {"roll_deg": STANDING_RIGHT_ROLL_DEG}
    return downscale(compose_scene(face or FACE, "blue", size=STILL, **scene), PREVIEW)


def guidance_view(analyzer, frame: np.ndarray, state: GuideState, config):
    """The booth's live path on one frame: models, crop plan, checks, the one instruction."""
    from kiosk.booth.guidance import Guide, Hint
    from kiosk.booth.workers import guide_frame

    analysis, plan, results, _ = guide_frame(analyzer, frame, config, STILL)
    guide = Guide(config.session)
    view = guide.update(results, plan, 0.0, source_size=PREVIEW,
                        people=int(getattr(analysis, "people_count", 0)))
    if state.hint is not None:
        rule, message = state.hint
        guide.filter.reset()
        guide.filter.update(Hint(rule, message, 2), 0.0)
        view = type(view)(message=message, hint_id=rule, all_pass=False, progress=0.0,
                          ready=False, plan=plan, source_size=PREVIEW, people=view.people,
                          failing=(rule,))
    return view


def render_states(out_dir: str | os.PathLike, sizes=((1280, 800), (800, 1280)), *,
                  language: str = "zh", states=None) -> dict[str, Any]:
    """Save ``<state>_<w>x<h>.png`` for every state and size; returns {state: GuidanceView}."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    from kiosk.booth.session import SessionData, State
    from kiosk.booth.ui import screens
    from kiosk.booth.ui.fonts import Fonts
    from kiosk.booth.ui.layout import make_layout
    from kiosk.config import Config
    from kiosk.photo.analysis import Analyzer

    pygame.display.init()
    fonts = Fonts()
    config = Config()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    views: dict[str, Any] = {}
    with Analyzer(video=False) as analyzer:
        for state in states or _states():
            frame = scene_frame(state)
            view = guidance_view(analyzer, frame, state, config)
            views[state.name] = view
            for size in sizes:
                surface = pygame.Surface(size)
                layout = make_layout(size)
                # the guidance frame first: the countdown holds the zoom it last showed
                data = SessionData(state=State.GUIDANCE, language=language, live=view)
                screens.draw(surface, fonts, layout, screens.ScreenModel(data, now=1.0, preview=frame))
                if state.countdown:
                    data = SessionData(state=State.CAPTURE, language=language, countdown_until=3.6)
                    screens.draw(surface, fonts, layout,
                                 screens.ScreenModel(data, now=1.1, preview=frame))
                pygame.image.save(surface, str(out / f"{state.name}_{size[0]}x{size[1]}.png"))
    return views


def contact_sheet(folder: str | os.PathLike, names, size: tuple[int, int], out: str | os.PathLike, *,
                  columns: int = 4, scale: float = 0.5) -> Path:
    """One PNG of the states' screenshots at ``size``, ``columns`` to a row, scaled down and
    reduced to 256 colours (small enough to keep in the repository for the README)."""
    import pygame
    from PIL import Image

    w, h = int(size[0] * scale), int(size[1] * scale)
    names = list(names)
    rows = -(-len(names) // columns)
    sheet = pygame.Surface((columns * w, rows * h))
    sheet.fill((0, 0, 0))
    for i, name in enumerate(names):
        shot = pygame.image.load(str(Path(folder) / f"{name}_{size[0]}x{size[1]}.png"))
        sheet.blit(pygame.transform.smoothscale(shot, (w - 4, h - 4)), ((i % columns) * w + 2,
                                                                         (i // columns) * h + 2))
    rgb = pygame.surfarray.array3d(sheet).transpose(1, 0, 2)
    Image.fromarray(rgb).quantize(256, dither=Image.Dither.NONE).save(str(out), optimize=True)
    return Path(out)
