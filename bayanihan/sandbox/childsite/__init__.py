"""Package data: childsite."""
