"""Package data: suites."""
