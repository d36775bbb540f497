"""winloss.report."""
