"""Samverkan: SSPF collaboration, consent-gated information sharing and citizen promises."""

__version__ = "0.1.0"
