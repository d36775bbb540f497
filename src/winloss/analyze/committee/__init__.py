"""Buying-committee (multithreading) analysis."""
