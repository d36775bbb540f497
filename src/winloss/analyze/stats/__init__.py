"""stats analysis."""
