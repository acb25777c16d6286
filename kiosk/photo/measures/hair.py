"""occlusion.hair: are both eyebrows and both ears uncovered?

* brows: the band just above each eyebrow must be skin (a fringe puts hair there);
  :func:`brow_skin` is the smaller of the two skin shares.
* ears: beside the face contour, from the eyes to the nose's foot, an ear shows as skin; hair
  there covers it, backdrop there means the ear does not stand out (unknown, not covered).
  :func:`ears` gives per ear the shares of skin and hair among the zone's pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.photo.measures import regions as R
from kiosk.photo.measures.head import HeadView


@dataclass(frozen=True)
class Ear:
    skin: float          # share of the ear zone (all its pixels) that is skin-coloured person
    hair: float          # share that is hair or other non-skin person (covering)
    person: float        # share of the zone inside the silhouette


@dataclass(frozen=True)
class Hair:
    brow_skin: float               # the smaller skin share above the two brows (NaN: not seen)
    ears: tuple[Ear, Ear]          # the person's right, left
    has_hair_model: bool

    @property
    def ear_skin(self) -> float:
        """The less visible ear's skin share."""
        return min(e.skin for e in self.ears)

    @property
    def ear_cover(self) -> float:
        """The more covered ear's share of non-skin person pixels."""
        return max(e.hair for e in self.ears)


def measure(v: HeadView) -> Hair:
    hair = R.hair_model(v)
    brows = [R.mix(v, R.above_brows(v, side), hair) for side in ("right", "left")]
    ears = []
    for side in ("right", "left"):
        m = R.mix(v, R.ear(v, side), hair)
        p = m.person
        ears.append(Ear(m.skin * p, (1.0 - m.skin) * p, p))
    # a brow band mostly outside the silhouette (a broken outline) says nothing
    seen = [b.skin for b in brows if b.person >= 0.5]
    brow = min(seen) if len(seen) == 2 else float("nan")
    return Hair(brow, (ears[0], ears[1]), hair is not None)
