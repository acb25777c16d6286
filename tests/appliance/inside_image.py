"""Runs INSIDE the arm64 root file system (under qemu) with the booth's venv python.

Proves that what the install script put there is a working app: the package imports, the
mediapipe models bundled in the wheel load and find the face in a real photograph, the CJK font
renders glyphs, and the apt-provided modules are visible through --system-site-packages.
Prints one JSON object for the test to read.
"""

import json
import platform
import sys

import numpy as np

out = {"machine": platform.machine(), "python": platform.python_version(), "prefix": sys.prefix}

from PIL import Image  # noqa: E402

import kiosk  # noqa: E402
import kiosk.config  # noqa: E402,F401  (the config model imports: pydantic is installed)
from kiosk.photo.analysis import Analyzer  # noqa: E402

rgb = np.asarray(Image.open(sys.argv[1]).convert("RGB"))
analyzer = Analyzer()
analysis = analyzer.analyze(rgb)
out["people_count"] = int(analysis.people_count)
out["face_found"] = analysis.face is not None
if analysis.face is not None:
    out["face_width"] = float(analysis.face.face_width)
analyzer.close()

import pygame  # noqa: E402

pygame.font.init()
font = pygame.font.Font("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 48)
glyph = font.render("请", True, (0, 0, 0))
out["cjk_glyph_width"] = glyph.get_width()
out["pygame_sdl"] = ".".join(map(str, pygame.get_sdl_version()))

import cv2  # noqa: E402
import mediapipe  # noqa: E402
import pyzbar.pyzbar  # noqa: E402,F401  (needs libzbar0 from apt)

out["cv2"] = cv2.__version__
out["mediapipe"] = mediapipe.__version__
out["numpy"] = np.__version__

for name in ("systemd.daemon", "gpiozero", "lgpio"):
    try:
        module = __import__(name, fromlist=["_"])
        out[name] = getattr(module, "__file__", "?")
    except ImportError as exc:
        out[name] = f"missing: {exc}"

print(json.dumps(out))
