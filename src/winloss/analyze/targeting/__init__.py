"""targeting analysis."""
