"""The policy's taxonomy and the world it applies to, from data files in ``data/``."""
