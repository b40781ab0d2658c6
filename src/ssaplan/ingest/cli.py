"""``ssaplan import ...`` and ``ssaplan export ...``: the command groups for data in and out."""

from __future__ import annotations

import typer

import_app = typer.Typer(help="Bring data in: IATI, foreign-assistance CSV, indicators, programs.",
                        no_args_is_help=True)
export_app = typer.Typer(help="Send data out: IATI XML, Excel workbook, CSV.", no_args_is_help=True)
