"""Benchmarks: every measurement runs side by side with its baseline in the same run."""
