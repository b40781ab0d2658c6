"""Write the generated reference docs: docs/cli.md (every command's help) and docs/api.md
(every route with the permission it needs), and copy docs/formats.md into the package
(the workbench serves it). ``tests/test_docs.py`` fails when they are stale.

    .venv/bin/python scripts/gen_docs.py
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer.main

ROOT = Path(__file__).resolve().parent.parent
WIDTH = 100
FORMATS_COPY = ROOT / "src" / "ssaplan" / "ingest" / "formats.md"


def formats_markdown() -> str:
    """docs/formats.md (written by hand), as the package ships it for the Data page."""
    return (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")


def _commands(cmd: Any, ctx: Any, path: list[str]) -> Iterator[tuple[list[str], Any, Any]]:
    yield path, cmd, ctx
    if not hasattr(cmd, "list_commands"):
        return
    for name in sorted(cmd.list_commands(ctx)):  # groups load their commands on demand
        sub = cmd.get_command(ctx, name)
        sub_ctx = typer.Context(
            sub, info_name=name, parent=ctx, terminal_width=WIDTH, max_content_width=WIDTH
        )
        yield from _commands(sub, sub_ctx, [*path, name])


def cli_markdown() -> str:
    from ssaplan.cli import app

    root = typer.main.get_command(app)
    ctx = typer.Context(root, info_name="ssaplan", terminal_width=WIDTH, max_content_width=WIDTH)
    out = [
        "# ssaplan command line",
        "",
        "Generated from the code by `scripts/gen_docs.py`; do not edit by hand.",
        "Every command takes `--db URL` and `--json`; exit 0 on success, 1 on a user error",
        "(one line on stderr), 2 on bad usage.",
        "",
    ]
    for path, cmd, cmd_ctx in _commands(root, ctx, []):
        title = " ".join(["ssaplan", *path])
        out += [f"## `{title}`", "", "```", cmd.get_help(cmd_ctx).rstrip(), "```", ""]
    return "\n".join(out)


def _permission(dependant: Any) -> str:
    found: list[str] = []

    def walk(d: Any) -> None:
        action = getattr(d.call, "required_action", None)
        if action:
            found.append(action)
        if getattr(d.call, "__name__", "") == "current_actor" and not found:
            found.append("any logged-in user")
        for sub in d.dependencies:
            walk(sub)

    walk(dependant)
    return ", ".join(dict.fromkeys(found)) or "none (public)"


def api_markdown() -> str:
    import tempfile

    from ssaplan.app import create_app
    from ssaplan.bootstrap import initialize
    from ssaplan.core.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/docs.db")
        initialize(store)
        app = create_app(store)
        rows = []
        for route in app.routes:
            contexts = getattr(route, "effective_route_contexts", None)
            for item in contexts() if callable(contexts) else [route]:
                methods = sorted(m for m in (getattr(item, "methods", None) or []) if m != "HEAD")
                dependant = getattr(item, "dependant", None)
                if not methods or dependant is None:
                    continue
                doc = inspect.getdoc(item.endpoint) or ""
                first = doc.split("\n\n")[0].replace("\n", " ")
                kind = (
                    "API"
                    if item.path.startswith("/api") or item.path == "/openapi.json"
                    else "page"
                )
                for m in methods:
                    rows.append((kind, item.path, m, _permission(dependant), first))
        store.dispose()
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    out = [
        "# ssaplan routes",
        "",
        "Generated from the code by `scripts/gen_docs.py`; do not edit by hand.",
        "Permissions are default-deny: each domain declares its actions and the roles that",
        "hold them (`Domain.actions` in its `domain.py`); a scoped action is granted only",
        "within the scope of the role assignment (an agency, a bureau, a country).",
        "",
        *_permission_table(),
        "",
        "| kind | method | path | permission | what |",
        "|---|---|---|---|---|",
    ]
    out += [f"| {k} | {m} | `{p}` | {perm} | {what} |" for k, p, m, perm, what in rows]
    return "\n".join(out) + "\n"


def _permission_table() -> list[str]:
    from ssaplan import domains

    roles = [r.name for d in domains.domains() for r in d.roles]
    out = [
        "| action | domain | " + " | ".join(roles) + " | scoped | what |",
        "|---|---|" + "---|" * len(roles) + "---|---|",
    ]
    for d in domains.domains():
        for a in d.actions:
            marks = " | ".join("yes" if r in a.roles else "" for r in roles)
            scoped = "yes" if a.scoped else ""
            out.append(f"| `{a.name}` | {d.name} | {marks} | {scoped} | {a.description} |")
    return out


def main() -> int:
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "cli.md").write_text(cli_markdown() + "\n", encoding="utf-8")
    (ROOT / "docs" / "api.md").write_text(api_markdown(), encoding="utf-8")
    # The workbench serves the formats documentation from inside the package.
    FORMATS_COPY.write_text(formats_markdown(), encoding="utf-8")
    print("wrote docs/cli.md and docs/api.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
