"""Handoff: the durable spool, the USB export, rosters, QR payloads and the registrar's tools."""
