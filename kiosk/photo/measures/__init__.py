"""Pure measures: one raw value per rule, computed from pixels, with no decision in it.

Each module measures one group of rules (OFIQ's split of a quality measure into a raw value and
a separate mapping to a decision). The checks (:mod:`kiosk.photo.checks`) turn these values
into pass/fail/unknown against the thresholds of :mod:`kiosk.photo.checks.thresholds`, so a
tool that needs the same judgement (technician mode's backdrop check) calls the same measure
and the same decision, never a copy of either.
"""
