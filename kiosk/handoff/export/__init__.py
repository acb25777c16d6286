"""USB export: the spool's photos onto the registrar's stick, verified, with a manifest.

On the stick, one folder per booth and capture date::

    grad-photos/<booth_id>/<YYYY-MM-DD>/
        <id_number>.jpg ...     the photos, named by the configured template (FAT-safe)
        manifest.csv            UTF-8 with BOM: 学号, 姓名, 身份证号, ..., SHA-256
        manifest.json           the same for programs, with every check result and the history
        index.html              contact sheet: thumbnails embedded, warnings highlighted

At start the booth calls ``Spool.recover()``; then :func:`export_to_stick` (or the lower-level
:func:`export_pending`) after each accepted photo, at start and whenever a stick appears, and
the hardware layer's ``UsbStick.eject()`` (hardware.usb) when the operator asks to remove the
stick.
"""

__all__ = ["ExportReport", "ExportedPhoto", "export_pending", "export_to_stick", "probe",
           "problem_with"]

_WHERE = {"ExportReport": "exporter", "ExportedPhoto": "exporter", "export_pending": "exporter",
          "export_to_stick": "exporter",
          "probe": "stick", "problem_with": "stick"}


def __getattr__(name: str):
    # Imported on first use: the spool uses kiosk.handoff.export.durable, and the exporter uses the
    # spool, so importing the exporter here eagerly would be circular.
    if name in _WHERE:
        import importlib
        return getattr(importlib.import_module(f"kiosk.handoff.export.{_WHERE[name]}"), name)
    raise AttributeError(name)
