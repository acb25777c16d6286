"""Calibrated thresholds for the checks whose limits the standard does not give in numbers.

Each value says how it was chosen. They can be overridden in the [thresholds] table of the
config file; the standard's own numbers are in kiosk/standard.py and are not configurable here.

Calibration: ``bench/calibrate_checks.py`` composes booth scenes from the two real photographs
(scikit-image's astronaut, matplotlib's Grace Hopper) on the three backdrops, plus deliberately
broken versions, and prints every measured value. Each threshold sits between the good scenes
and the broken ones, nearer the good side only where the standard's wording is strict. The
figures quoted below are from that script (crop applied, so measured in the 480×640 frame).
Ratios are scale-free (normalised by the face width or the eye width) so that the same value
holds for a preview frame, a 12 MP still and a finished 480×640 file.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    # eyes.open — eyelid gap (159–145, 386–374) / eye width (corner to corner), the smaller eye.
    # Open eyes in the real photos: 0.26–0.33; eyelids moved onto each other (derived "closed"
    # eyes) 0.02–0.05; a squint about 0.12. Below 0.15 is "not naturally open".
    eye_open_min: float = 0.15

    # eyes.gaze — iris centre offset from the middle of the eye opening, as a fraction of the eye
    # width (horizontal) and of the eye width (vertical), the larger of both eyes. Real photos
    # looking at the lens: ≤ 0.06; irises moved to a quarter of the eye width (a glance to the
    # side) 0.25. 0.12 is about a third of the way to the corner.
    gaze_max_offset: float = 0.12

    # mouth.closed — inner-lip gap (13–14) / face width. Grace Hopper (closed lips): ~0.00–0.01;
    # the astronaut's open smile showing teeth: ~0.06. Natural closed lips stay below 0.025.
    mouth_gap_max: float = 0.025

    # expression.natural (advisory) — mouth width (61–291) / face width: Hopper 0.38, the
    # astronaut's broad smile 0.47. Brow raise: brow-middle to upper eyelid / face width: 0.10–
    # 0.13 relaxed, > 0.18 with raised brows (derived from landmarks).
    smile_width_max: float = 0.44
    brow_raise_max: float = 0.18

    # glasses.glare — largest blob of clipped pixels (all channels ≥ 250) inside a lens area, as
    # a fraction of that area. Real eyes have tiny catchlights (< 0.5 %); the lens reflection in
    # the glare scenes covers 6–12 %. 2 % keeps the catchlights out and the reflections in.
    glare_max_fraction: float = 0.02
    clip_level: int = 250

    # glasses.tinted — contrast inside the eye opening: std of luminance / median skin luminance.
    # Clear eyes (sclera vs iris): 0.15–0.35; behind a dark tinted lens: < 0.05.
    tint_min_contrast: float = 0.08

    # eyes.red_eye — fraction of the pupil disc (0.55 × iris radius) whose red clearly dominates
    # (R > 90 and R > 1.8 × max(G, B)). Real pupils: 0 %; red pupils in the scene: > 60 %.
    red_eye_max_fraction: float = 0.25

    # occlusion.hair (advisory) — luminance of the band just above the eyebrows / median skin
    # luminance. Bare forehead: 0.9–1.1; hair fringe over the brows: < 0.6.
    forehead_min_ratio: float = 0.85

    # attire.jewelry (advisory) — clipped, colourless specks (metal) below the ears and around
    # the neck, count of blobs. None in the real photos; earrings drawn in tests: ≥ 2.
    jewelry_max_blobs: int = 0

    # makeup (advisory) — lip chroma / skin chroma (CIELAB C*). Natural lips: 1.0–1.6 (the
    # astronaut, who wears lipstick, 1.5); painted saturated lips ≥ 2.2.
    lip_chroma_max_ratio: float = 1.45

    # attire.contrast — CIEDE2000 between the clothing median colour and the backdrop median.
    # The real clothes on the three backdrops: ≥ 25; clothes dyed the backdrop colour: < 5.
    attire_min_delta_e: float = 20.0

    # attire.pattern — mean |band-pass| (difference of Gaussians σ 1 and 3 at a 200 px face
    # width) of the clothing luminance. Plain clothes in the photos: 2–5 (the astronaut's
    # suit seams and the neck ring included); stripes: > 15.
    pattern_max_energy: float = 9.0

    # background.color — CIEDE2000 between the backdrop's median colour and the installed
    # reference colour. The correct backdrop composed with mild sensor noise: < 1; a wrong
    # backdrop of the set (e.g. white when blue is installed) ≥ 3.5 (grey vs white) and blue vs
    # white ~ 30. Real cameras add up to ~4 of white-balance and exposure drift: 6.
    background_max_delta_e: float = 6.0

    # background.uniform — largest CIEDE2000 between the median colours of a 4×4 grid of
    # backdrop cells and the overall median. Flat backdrops: < 1; a 25 % left-to-right
    # brightness gradient: > 8.
    uniform_max_delta_e: float = 2.5

    # background.shadow — L* drop of the backdrop in a band next to the person's outline
    # compared with the backdrop further out, the worse side. No shadow: < 1.5 (soft hair edge
    # included); a 40 % shadow: > 8.
    shadow_max_drop: float = 1.5

    # background.clutter — fraction of the backdrop area whose colour differs from the
    # backdrop's median by more than clutter_delta_e, in blobs. Clean: < 0.2 %; the cup: > 2 %.
    clutter_delta_e: float = 15.0
    clutter_max_fraction: float = 0.008

    # lighting.symmetry — darker/brighter face-half median luminance. The real photos: 0.88–1.0;
    # one side darkened 40 %: 0.6. The standard lights both sides equally: 0.8.
    symmetry_min_ratio: float = 0.75

    # lighting.exposure — median face luminance (CIELAB L*) band and the share of clipped skin.
    # The real photos: L* 55–75. Exposure × 0.45: L* ~ 32; × 1.8: clipped.
    exposure_min_l: float = 40.0
    exposure_max_l: float = 85.0
    exposure_max_clipped: float = 0.05

    # lighting.highlights — largest clipped blob on the face skin / skin area. The photos: 0;
    # a hot spot on the forehead: > 1 %.
    highlight_max_fraction: float = 0.004

    # image.sharpness — variance of the Laplacian of the face at a normalised 200 px face width.
    # The astronaut (a 91 px face in the source, upscaled into the scene): ~ 40; Hopper ~ 90;
    # Gaussian blur σ = 1 % of the face width: < 15.
    sharpness_min: float = 120.0

    # image.color — chroma distance (√(Δa*² + Δb*²)) of the backdrop from its reference
    # colour: a neutral backdrop must read neutral. Correct white balance: < 1; a 10 % warm
    # cast: > 6.
    color_max_chroma: float = 5.0
