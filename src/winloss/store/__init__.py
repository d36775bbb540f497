"""winloss.store."""
