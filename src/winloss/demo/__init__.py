"""winloss.demo."""
