"""winloss.model."""
