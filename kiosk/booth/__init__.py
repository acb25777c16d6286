"""The booth: the state machine, its loop and workers, live guidance and the screens."""
