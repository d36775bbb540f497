"""winloss.plan."""
