"""Carta: an outcomes dashboard for CD19 CAR T-cell therapy in autoimmune disease."""

__version__ = "0.1.0"
