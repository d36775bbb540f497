"""scoring analysis."""
