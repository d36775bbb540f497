"""Product-led growth analysis."""
