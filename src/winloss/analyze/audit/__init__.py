"""audit analysis."""
