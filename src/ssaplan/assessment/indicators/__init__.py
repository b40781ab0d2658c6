"""Partner indicator tables: reading tidy and public wide layouts, storing observations.

``ssaplan import indicators FILE...`` reads each file, detects its layout from the
header (see ``data/indicator_layouts.toml``), matches country names and codes to
ISO 3166, and writes the observations all or nothing.
"""
