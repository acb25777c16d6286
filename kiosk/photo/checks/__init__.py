"""Every measurable rule of the standard as a small pure check: ``CheckContext -> CheckResult``.

One module per group of rules (people, layout, pose, eyes, mouth, glasses, attire, background,
lighting, image); each exports ``CHECKS = {rule_id: function}``. The rule ids are exactly those
of the standard: they are the product's interface (JSON output, manifest, guidance priority).

    results = run_checks(analysis, config, crop=plan)          # a camera frame: judged in the crop
    results = run_checks(analysis, config)                     # a finished 480×640 file
    results = run_checks(analysis, config, ids=LAYOUT_AND_BACKGROUND_IDS)
    results = run_checks(analysis, config, crop=plan, ids=LIVE_RULE_IDS, view_scale=0.5)

Advisory rules (``expression.natural``, ``makeup``) warn and never block. A hard rule that
cannot be measured is ``unknown``, which blocks like a fail, except the rules the student can
answer (``CONFIRMABLE_IDS``: headwear, hair, jewellery; the booth asks them to confirm, see
:mod:`kiosk.photo.checks.confirm`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable, Iterable

from kiosk.message import Message
from kiosk.photo.checks import attire, background, eyes, glasses, image, layout, lighting, mouth, people, pose
from kiosk.photo.checks.confirm import apply_allowances
from kiosk.photo.checks.context import CheckContext
from kiosk.photo.checks.result import CheckResult, Status

if TYPE_CHECKING:
    from kiosk.config import Config
    from kiosk.photo.analysis import Analysis
    from kiosk.photo.crop import CropPlan

log = logging.getLogger(__name__)

Check = Callable[[CheckContext], CheckResult]

REGISTRY: dict[str, Check] = {}
for _module in (people, layout, pose, eyes, mouth, glasses, attire, background, lighting, image):
    REGISTRY.update(_module.CHECKS)

#: Every rule id, in the order of the standard.
ALL_RULE_IDS: tuple[str, ...] = (
    "face.count",
    "layout.centered", "layout.head_top", "layout.eyes", "layout.face_width",
    "pose.yaw", "pose.pitch", "pose.roll", "pose.shoulders",
    "eyes.open", "eyes.gaze", "mouth.closed", "expression.natural",
    "glasses.glare", "glasses.tinted", "eyes.red_eye",
    "occlusion.hair", "attire.headwear", "attire.jewelry", "attire.contrast", "attire.pattern",
    "makeup",
    "background.color", "background.uniform", "background.shadow", "background.clutter",
    "lighting.symmetry", "lighting.exposure", "lighting.highlights",
    "image.sharpness", "image.color",
)
assert set(ALL_RULE_IDS) == set(REGISTRY), set(ALL_RULE_IDS) ^ set(REGISTRY)

ADVISORY_IDS: frozenset[str] = frozenset({"expression.natural", "makeup"})

#: What a finished file is re-checked for after decoding (verify): its layout and backdrop.
LAYOUT_AND_BACKGROUND_IDS: tuple[str, ...] = tuple(
    i for i in ALL_RULE_IDS if i.startswith(("layout.", "background.")) or i == "face.count")


#: What live guidance judges on every analysed preview frame: every rule that can block (an
#: advisory rule never becomes the instruction on screen, kiosk.booth.guidance.most_important).
LIVE_RULE_IDS: tuple[str, ...] = tuple(i for i in ALL_RULE_IDS if i not in ADVISORY_IDS)


#: Rules judged from the analysis' geometry alone (landmarks, head top, people count,
#: shoulders): they never look at the view's pixels, so they cost next to nothing.
GEOMETRY_RULE_IDS: tuple[str, ...] = tuple(
    i for i in LIVE_RULE_IDS if i.startswith(("face.", "layout.", "pose.", "mouth."))
    or i in ("eyes.open", "eyes.gaze"))
#: The live rules that measure pixels (backdrop, clothes, light, glasses, sharpness, colour).
PIXEL_RULE_IDS: tuple[str, ...] = tuple(i for i in LIVE_RULE_IDS if i not in GEOMETRY_RULE_IDS)


def layout_and_background_ids() -> tuple[str, ...]:
    """The checks worth re-running on a decoded 480×640 file (layout, backdrop, one person)."""
    return LAYOUT_AND_BACKGROUND_IDS


FAILED_TO_MEASURE = Message("无法测量此项", "This could not be measured")


def run_checks(analysis: Analysis, config: Config | None = None, *, crop: CropPlan | None = None,
               ids: Iterable[str] | None = None,
               view_scale: float | None = None,
               context: CheckContext | None = None) -> list[CheckResult]:
    """Run the checks ``ids`` (default: all, in the standard's order) on one analysis.

    ``crop``: the crop plan of a camera frame; layout and pixels are then judged where the
    crop will put them. ``None`` for a finished file: judged in the image itself.
    ``view_scale`` (with a crop): judge the pixels in the crop at this fraction of 480×640
    (live guidance: the preview's own resolution, see kiosk.booth.workers.guide_frame).
    ``context``: a :class:`CheckContext` of these very arguments to use (and keep: its view
    is the 480×640 crop the photo engine then encodes, kiosk.photo.engine.judge_still).
    A check that raises is reported as ``unknown`` (logged), never as a crash.
    """
    wanted = ALL_RULE_IDS if ids is None else tuple(ids)
    unknown_ids = [i for i in wanted if i not in REGISTRY]
    if unknown_ids:
        raise KeyError(f"unknown rule ids: {unknown_ids}")
    ctx = context or CheckContext(analysis, config, crop, view_scale=view_scale)
    results = []
    for rule in wanted:
        try:
            results.append(REGISTRY[rule](ctx))
        except Exception:   # one broken measurement must not take down the booth
            log.exception("check %s failed to run", rule)
            advisory = rule in ADVISORY_IDS
            results.append(CheckResult(rule, Status.WARN if advisory else Status.UNKNOWN, None, None,
                                       FAILED_TO_MEASURE, advisory=advisory, severity=1.0))
    return apply_allowances(results, config)
