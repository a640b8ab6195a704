"""correlate."""
