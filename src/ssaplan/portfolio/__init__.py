"""The shared portfolio: every security sector assistance program across agencies."""
