"""Package data: policies."""
