"""Defaults shared by the command line and the settings, importable without pydantic."""

from __future__ import annotations

DEFAULT_DB = "sqlite:///ssaplan.db"
