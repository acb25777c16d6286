"""Hardware abstraction layer: one small interface per device, a real driver and a fake.

Modelled on gpiozero's pin factories: the application asks for a device by role, and
configuration or the environment decides whether it gets the real driver or the fake.
"""
