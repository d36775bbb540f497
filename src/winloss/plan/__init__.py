"""Findings become an action plan: qualification rules, adjustments, the quarterly register."""
