"""winloss.ingest."""
