"""The registrar office's side: verify what a booth exported, merge several booths' exports.

- :func:`kiosk.handoff.registrar.verify.verify_export`: every file against its manifest and the verifier.
- :func:`kiosk.handoff.registrar.merge.merge_exports`: one photo per student, newest wins, conflicts listed.
- :mod:`kiosk.handoff.registrar.cli`: ``kiosk registrar verify`` and ``kiosk registrar merge``.
"""
