"""QBR basics: reasons, win rates by group and competitor, stage conversion, coverage."""
