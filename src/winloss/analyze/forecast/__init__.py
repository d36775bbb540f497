"""forecast analysis."""
