"""Captures: rep vs buyer agreement, and which closed deals to debrief with the buyer."""
