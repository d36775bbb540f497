"""winloss.cli."""
