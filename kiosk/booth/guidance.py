"""Live guidance: from the checks of one preview frame to ONE calm instruction on the screen.

Every analysed preview frame runs the same checks as the final validator (with the crop plan,
so layout is judged where the crop will put the face). Of everything that fails, the student
is told one thing at a time, the most important first:

    people count → distance / position (the crop) → pose → eyes / mouth → lighting / glare → others

A camera frame is noisy: a hint that flips between "raise your chin" and "look at the camera"
five times a second helps nobody. `HintFilter` only replaces the hint on screen once a new one
has persisted for a few analysed frames *and* a short time (hysteresis). `SteadyTimer` starts
the capture once every check has passed without a break for ``steady_pass_s``. After the burst,
`pick_best` chooses the frame that passes with the most room to spare.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from kiosk.config import SessionSettings
from kiosk.message import Message
from kiosk.photo.checks.result import CheckResult, Status

# Rule-id prefixes by importance; the index is the rank (lower = said first).
PRIORITY: tuple[tuple[str, ...], ...] = (
    ("face.count",),
    ("crop", "layout."),
    ("pose.",),
    ("eyes.", "mouth.", "expression."),
    ("lighting.", "glasses.", "image."),
)
OTHER_RANK = len(PRIORITY)

CROP_HINT_ID = "crop"             # the crop plan's own problem ("Move closer") counts as layout
HOLD_STILL = Message("很好，请保持不动", "Good, hold still")
NO_PERSON = Message("请站到镜头前", "Please stand in front of the camera")


def rank(rule_id: str) -> int:
    """How important a failing rule is for the person in front of the camera (0 = most)."""
    for i, prefixes in enumerate(PRIORITY):
        if any(rule_id == p or rule_id.startswith(p) for p in prefixes):
            return i
    return OTHER_RANK


@dataclass(frozen=True)
class Hint:
    """One instruction: which rule it comes from and what the person should do."""
    id: str
    message: Message
    rank: int
    severity: float = 0.0

    @property
    def key(self) -> tuple[str, str]:
        # same rule but a different direction ("move left" → "move right") is a new hint
        return (self.id, self.message.en)


def most_important(results: Iterable[CheckResult], crop_problem: Message | None = None) -> Hint | None:
    """The one blocking problem to tell the person about now, or None when everything passes.

    Advisory rules and warnings never block, so they are never the live instruction (the
    reminders screen covers them before guidance starts).
    """
    hints = [Hint(r.id, r.message, rank(r.id), r.severity) for r in results if r.blocking]
    if crop_problem is not None:
        hints.append(Hint(CROP_HINT_ID, crop_problem, rank(CROP_HINT_ID), float("inf")))
    if not hints:
        return None
    # the crop's own problem first within its rank: it is why the layout checks fail
    return min(hints, key=lambda h: (h.rank, h.id != CROP_HINT_ID, -h.severity, h.id))


class HintFilter:
    """Hysteresis for the hint on screen.

    The first hint shows at once. After that, the hint on screen stays until it has been *gone*
    (the newest frames ask for something else) for ``hold_frames`` analysed frames in a row and
    for ``hold_s`` seconds; then the newest hint replaces it. A hint that flickers away for a
    frame and comes back never leaves the screen, and two alternatives that take turns do not
    make the screen take turns. "All good" (None) is a hint like any other, so "hold still" does
    not flash up between two failures either.
    """

    def __init__(self, hold_frames: int = 2, hold_s: float = 0.6) -> None:
        self.hold_frames = max(1, hold_frames)
        self.hold_s = hold_s
        self.shown: Hint | None = None
        self._started = False
        self._gone_since = 0.0
        self._gone_frames = 0

    def reset(self) -> None:
        self.shown = None
        self._started = False
        self._gone_since = 0.0
        self._gone_frames = 0

    @property
    def started(self) -> bool:
        """A frame has been fed since the last reset (so ``shown`` is what the screen says)."""
        return self._started

    def update(self, candidate: Hint | None, now: float) -> Hint | None:
        key = candidate.key if candidate else None
        if not self._started:
            self._started, self.shown = True, candidate
            return self.shown
        if key == (self.shown.key if self.shown else None):
            self.shown = candidate          # still wanted (its newest severity); stays
            self._gone_frames = 0
            return self.shown
        if self._gone_frames == 0:
            self._gone_since = now
        self._gone_frames += 1
        if self._gone_frames >= self.hold_frames and now - self._gone_since >= self.hold_s:
            self.shown = candidate
            self._gone_frames = 0
        return self.shown


class SteadyTimer:
    """How long everything has passed without a break; ready after ``steady_s``."""

    def __init__(self, steady_s: float) -> None:
        self.steady_s = steady_s
        self.since: float | None = None

    def reset(self) -> None:
        self.since = None

    def update(self, all_pass: bool, now: float) -> float:
        """Feed one analysed frame; returns progress 0..1 (1 = capture now)."""
        if not all_pass:
            self.since = None
            return 0.0
        if self.since is None:
            self.since = now
        if self.steady_s <= 0:
            return 1.0
        return min(1.0, (now - self.since) / self.steady_s)


@dataclass(frozen=True)
class GuidanceView:
    """What the guidance screen draws for the newest analysed frame (read-only)."""
    message: Message                 # the ONE instruction (or "hold still")
    hint_id: str | None              # the rule it comes from (None when all pass)
    all_pass: bool
    progress: float                  # 0..1 of the steady pass
    ready: bool                      # steady long enough: capture
    plan: Any = None                 # the crop plan of the frame (for the guide overlay)
    source_size: tuple[int, int] | None = None   # (w, h) of the analysed frame
    people: int = 0
    failing: tuple[str, ...] = ()    # ids of every blocking rule, for the log and tests


class Guide:
    """Live guidance for one visit: feed it every analysed frame, draw its `GuidanceView`."""

    def __init__(self, settings: SessionSettings) -> None:
        self.filter = HintFilter(settings.hint_hold_frames, settings.hint_hold_s)
        self.steady = SteadyTimer(settings.steady_pass_s)

    def reset(self) -> None:
        self.filter.reset()
        self.steady.reset()

    def update(self, results: Sequence[CheckResult], plan: Any, now: float, *,
               source_size: tuple[int, int] | None = None, people: int = 0) -> GuidanceView:
        problem = None if plan is None or getattr(plan, "ok", False) else (
            getattr(plan, "problem", None) or NO_PERSON)
        candidate = most_important(results, problem)
        all_pass = candidate is None
        progress = self.steady.update(all_pass, now)
        # "hold still" goes through the same hysteresis: one lucky frame while the person is
        # still moving must not flash it up (the steady pass is longer than the hold time)
        told_to_hold_still = self.filter.started and self.filter.shown is None
        shown = self.filter.update(candidate, now)
        # capture only once "hold still" has been on screen for an earlier frame: on a slow
        # machine (few analysed frames) the steady pass can be over before the hysteresis lets
        # "hold still" show, and the countdown must not start over an old instruction
        ready = all_pass and progress >= 1.0 and told_to_hold_still and shown is None
        return GuidanceView(
            message=shown.message if shown else HOLD_STILL,
            hint_id=shown.id if shown else None,
            all_pass=all_pass,
            progress=progress,
            ready=ready,
            plan=plan,
            source_size=source_size,
            people=people,
            failing=tuple(r.id for r in results if r.blocking) + ((CROP_HINT_ID,) if problem else ()),
        )


# --- best frame of the burst -------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """One frame of the burst with what the checks said about it."""
    index: int
    results: Sequence[CheckResult]
    crop_ok: bool = True
    crop_margin: float = 0.0          # worst-case layout margin of its crop plan (px), if known


def score(c: Candidate) -> tuple:
    """Bigger is better: passes, fewer warnings, more room inside the layout bands, sharper."""
    blocking = sum(1 for r in c.results if r.blocking)
    warnings = sum(1 for r in c.results if not r.blocking and r.status is not Status.PASS)
    severity = sum(r.severity for r in c.results)
    sharp = next((r.value for r in c.results
                  if r.id == "image.sharpness" and isinstance(r.value, (int, float))), 0.0)
    return (c.crop_ok and blocking == 0, -blocking, -warnings, c.crop_margin, -severity, sharp,
            -c.index)


def pick_best(candidates: Sequence[Candidate]) -> Candidate | None:
    """The frame that passes with the most to spare; None when no frame of the burst passes."""
    if not candidates:
        return None
    best = max(candidates, key=score)
    return best if score(best)[0] else None


def plan_margin(plan: Any) -> float:
    """The worst-case margin of a crop plan: its ``worst`` (normalised) when it has one, else
    the smallest of its ``margins``, whatever shape they have."""
    worst = getattr(plan, "worst", None)
    if isinstance(worst, (int, float)) and worst == worst and abs(worst) != float("inf"):
        return float(worst)
    margins = getattr(plan, "margins", None)
    if margins is None:
        return 0.0
    if isinstance(margins, dict):
        values = [v for v in margins.values() if isinstance(v, (int, float))]
    elif isinstance(margins, (int, float)):
        values = [margins]
    else:
        try:
            values = [float(v) for v in margins]
        except (TypeError, ValueError):
            values = []
    return float(min(values)) if values else 0.0
