"""The booth's screens (pygame-ce): layout from the screen size, CJK fonts, draw-only screens."""
