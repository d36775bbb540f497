"""winloss.analyze."""
