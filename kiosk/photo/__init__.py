"""The photo engine: the standard, analysis, checks, crop, JPEG writer, identity seal and verifier.

It imports neither the booth nor the handoff: the registrar's tools and the booth share it."""
