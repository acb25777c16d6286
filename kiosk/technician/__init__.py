"""Technician mode: the tools to set a booth up once and leave it alone for days.

Reached with a long press of both buttons and protected by a PIN (:mod:`.pin`). Each tool is a
small pure module that works on frames and numbers, so it is tested on real photographs without
a Pi; :mod:`.screens` only draws their results:

* :mod:`.focus` — focus assist for the HQ camera's manual lens (sharpness score, peak hold);
* :mod:`.backdrop` — is the empty backdrop the right colour, even, free of shadows;
* :mod:`.light_balance` — set the two panels so a face or a grey card is lit evenly;
* :mod:`.camera_calibration` — exposure and white balance against the backdrop;
* :mod:`.calibration` — where the results live (``/var/lib/kiosk/calibration.json``);
* :mod:`.stats` — sessions, pass rate per check, median session time;
* :mod:`.logs` — logs to the USB stick; :mod:`.power` — reboot and shut down;
* :mod:`.mode` — the pages and what a press does, as plain state (PIN with lock-out);
* :mod:`.screens` — draws the mode with the booth's UI conventions (``draw``, ``handle``).
"""
