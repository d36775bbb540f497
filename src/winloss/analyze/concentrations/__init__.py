"""concentrations analysis."""
