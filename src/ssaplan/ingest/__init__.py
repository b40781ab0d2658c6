"""Data in and out: one module per source or target format."""
