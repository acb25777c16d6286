"""The simulator: scenes composed from real photographs and the scripted students who walk into them."""
