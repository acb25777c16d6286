"""The booth's screens (pygame-ce): layout from the screen size, CJK fonts, draw-only screens."""

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")   # no banner on the booth's stdout
