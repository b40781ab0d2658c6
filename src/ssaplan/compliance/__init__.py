"""Compliance."""
