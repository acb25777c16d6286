"""Graduation photo booth: guides a student live into a photo that meets 教毕指〔2017〕99号."""

__version__ = "0.1.0"
