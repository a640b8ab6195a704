"""Bayanihan: the regional threat-intelligence hub for ASEAN CERTs."""
__version__ = "0.1.0"
