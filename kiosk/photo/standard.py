"""The standard 教毕指〔2017〕99号 as numbers: the one place each of its numbers lives.

Everything here comes from the standard (see the project's spec) unless marked [product], a
product decision where the standard is silent or vague. Calibrated thresholds that are not part
of the standard live in kiosk/config.py instead. A change of the rules is a change of one line here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Band:
    """A closed interval [lo, hi] with the margin of a value inside it."""

    lo: float
    hi: float

    def contains(self, value: float) -> bool:
        return self.lo <= value <= self.hi

    def margin(self, value: float) -> float:
        """Distance to the nearer edge: positive inside the band, negative outside."""
        return min(value - self.lo, self.hi - value)

    @property
    def middle(self) -> float:
        return (self.lo + self.hi) / 2

    def __str__(self) -> str:
        return f"{self.lo:g}–{self.hi:g}"


# --- 1. The file -------------------------------------------------------------------------------
FRAME_WIDTH = 480                 # file.dimensions
FRAME_HEIGHT = 640
DPI = 300                         # file.dpi: JFIF density 300×300 dots per inch
CHANNELS = 3                      # file.color: 24-bit true colour
JPEG_MIN_QUALITY = 60             # file.quality
FILE_SIZE = Band(20 * 1024, 40 * 1024)   # file.size: "generally" 20–40 KB; [product] outside = warn
FILE_EXTENSIONS = (".jpg", ".JPG")        # file.format
RECENT_DAYS = 365                 # file.recent: taken within a year of graduation

# --- 2. Layout inside the 480 × 640 frame (pixels from the top edge, or widths) -----------------
HEAD_TOP = Band(50, 110)          # layout.head_top: top of the hair to the top edge
EYE_LINE = Band(200, 300)         # layout.eyes: line through both pupils to the top edge
FACE_WIDTH = Band(180, 300)       # layout.face_width: cheek to cheek
FACE_CENTER_X = Band(240 - 12, 240 + 12)  # layout.centered [product]: ±12 px around the middle

# --- 3. The person [product] limits --------------------------------------------------------------
MAX_YAW_DEG = 5.0                 # pose.yaw
MAX_PITCH_DEG = 10.0              # pose.pitch: "平视", eyes level. Real portraits labelled frontal
                                  # read −7.6…+9.8° (one bowed −12.8°), heads labelled looking down
                                  # ≤ −18.7° (bench/calibrate_checks.py); 8° failed a fifth of them
MAX_ROLL_DEG = 5.0                # pose.roll: the file may never be rotated to fix it
MAX_SHOULDER_TILT_DEG = 4.0       # pose.shoulders
FACE_COUNT = 1                    # face.count

# --- 4. Background: the three reference colours (sRGB) ------------------------------------------
BACKGROUND_COLORS: dict[str, tuple[int, int, int]] = {
    "blue": (100, 197, 255),      # 浅蓝色
    "white": (255, 255, 255),     # 白色
    "grey": (240, 240, 240),      # 浅灰色
}
BACKGROUND_NAMES_ZH = {"blue": "浅蓝色", "white": "白色", "grey": "浅灰色"}

# --- 5. Lighting the booth is built for (standard, 3.2) ------------------------------------------
LIGHT_COLOR_TEMPERATURE_K = Band(5500, 5600)
LIGHT_ANGLE_DEG = 45
LIGHT_DISTANCE_M = Band(1.5, 2.0)

# --- 6. Identity and handoff ---------------------------------------------------------------------
SCHOOL_CODE = "10727"
DEFAULT_FILENAME_TEMPLATE = "{id_number}.jpg"   # [product]
