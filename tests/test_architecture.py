"""The house: every registered domain provides the parts it declares, the floors hold
(no import runs back up), and a new domain is a folder plus one line."""

from __future__ import annotations

import ast
import importlib
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi import APIRouter
from fastapi.testclient import TestClient

from ssaplan import domains
from ssaplan.core.spec import Domain, load
from ssaplan.core.store import Base, Store

SRC = Path(__file__).resolve().parent.parent / "src" / "ssaplan"
TOOLKITS = {"ui", "clikit"}  # below the domains, above core
TOP = {"app", "cli", "domains", "bootstrap", "demo", "__init__", "__main__"}


@pytest.mark.parametrize("domain", domains.domains(), ids=lambda d: d.name)
def test_every_domain_provides_what_it_declares(domain: Domain) -> None:
    package = importlib.import_module(domain.package)
    assert package.__doc__, f"{domain.package} needs a docstring saying what it is"
    for module in domain.models:
        importlib.import_module(module)
    for target in (*domain.api, *domain.views):
        assert isinstance(load(target), APIRouter), target
    for command in domain.commands:
        obj = load(command.target)
        assert isinstance(obj, typer.Typer) or callable(obj), command.target
    if domain.templates:
        folder = Path(package.__file__).parent / "templates" / domain.name  # type: ignore[arg-type]
        assert folder.is_dir() and any(folder.glob("*.html")), folder
    declared = {a.name for d in domains.domains() for a in d.actions}
    for nav in domain.nav:
        assert nav.action in declared, nav
    if domain.demo:
        assert callable(load(domain.demo))


def test_every_table_belongs_to_a_registered_domain() -> None:
    modules = {m for d in domains.domains() for m in d.models}
    for mapper in Base.registry.mappers:
        assert mapper.class_.__module__ in modules, mapper.class_
        assert mapper.class_.__doc__, f"{mapper.class_.__name__} needs a docstring"


def _imports(path: Path) -> set[str]:
    """The ssaplan sub-packages (first component after ``ssaplan.``) a file imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "ssaplan":
                names = [f"ssaplan.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "ssaplan" and len(parts) > 1 and not parts[1].startswith("__"):
                found.add(parts[1])
    return found


def test_no_import_runs_back_up_a_floor() -> None:
    specs = {d.name: d for d in domains.domains()}
    problems: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] == "core" and "migrations" in rel.parts:
            continue
        floor = rel.parts[0].removesuffix(".py")
        if floor in TOP:
            continue
        used = _imports(path) - {floor, "__init__"}
        if floor == "core":
            allowed: set[str] = set()
        elif floor == "reference":
            allowed = {"core", "clikit"}  # the command-line toolkit sits beside it
        elif floor in TOOLKITS:
            allowed = {"core", "reference"} | (TOOLKITS - {floor})
        elif floor in specs:
            allowed = {"core", "reference", *TOOLKITS, *specs[floor].uses}
        else:
            problems.append(f"{rel}: {floor!r} is neither a domain, a toolkit nor the top")
            continue
        for name in sorted(used - allowed):
            problems.append(f"{rel} imports ssaplan.{name} (allowed: {sorted(allowed)})")
    assert problems == []


def test_engines_import_no_models_services_or_interfaces() -> None:
    banned = ("models", "service", "api", "views", "cli")
    for path in SRC.rglob("engine*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                last = node.module.split(".")[-1]
                assert last not in banned, f"{path}: imports {node.module}"


NEW_DOMAIN = {
    "__init__.py": '"""Field notes: a domain added as a folder plus one line."""\n',
    "domain.py": """
        from ssaplan.core.spec import Action, Command, Domain, Nav

        DOMAIN = Domain(
            name="fieldnotes",
            package="fieldnotes",
            api=("fieldnotes.api:router",),
            views=("fieldnotes.views:router",),
            templates=True,
            nav=(Nav("Field notes", "/fieldnotes", 90),),
            commands=(Command(("fieldnotes",), "fieldnotes.cli:app"),),
            actions=(Action("fieldnotes:write", ("planner", "admin"), "write field notes"),),
        )
    """,
    "api.py": """
        from pydantic import BaseModel
        from fastapi import APIRouter
        from ssaplan.core.deps import Reader

        router = APIRouter(prefix="/api/fieldnotes")

        class NotePublic(BaseModel):
            text: str

        @router.get("")
        def notes(actor: Reader) -> NotePublic:
            return NotePublic(text=f"hello {actor.username}")
    """,
    "views.py": """
        from fastapi import APIRouter, Request
        from fastapi.responses import HTMLResponse, Response
        from ssaplan.core.deps import Reader
        from ssaplan.ui.templating import render

        router = APIRouter(include_in_schema=False)

        @router.get("/fieldnotes", response_class=HTMLResponse)
        def page(request: Request, actor: Reader) -> Response:
            return render(request, "fieldnotes/index.html")
    """,
    "cli.py": """
        import typer
        from ssaplan.clikit import DbOpt, JsonOpt, emit, state

        app = typer.Typer(help="Field notes.", no_args_is_help=True)

        @app.command("hello")
        def hello(ctx: typer.Context, db: DbOpt = None, as_json: JsonOpt = False) -> None:
            "Say hello."
            emit(state(ctx, db, as_json), {"hello": "field"})
    """,
    "templates/fieldnotes/index.html": """
        {% extends "ui/base.html" %}
        {% block main %}<h1>Field notes page</h1>{% endblock %}
    """,
}


@pytest.fixture
def new_domain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    root = tmp_path / "fieldnotes"
    for name, text in NEW_DOMAIN.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    # The one line: the package joins the list.
    monkeypatch.setattr(domains, "PACKAGES", (*domains.PACKAGES, "fieldnotes"))
    for cached in (domains.domains, domains.install):
        cached.cache_clear()
    yield
    monkeypatch.undo()  # the list without the new domain, before anything re-reads it
    for cached in (domains.domains, domains.install):
        cached.cache_clear()
    for mod in [m for m in sys.modules if m == "fieldnotes" or m.startswith("fieldnotes.")]:
        del sys.modules[mod]
    domains.install()
    assert "fieldnotes" not in {d.name for d in domains.domains()}


def test_a_new_domain_is_a_folder_plus_one_line(
    new_domain: Any, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    from ssaplan.app import create_app
    from tests.conftest import make_user, run_cli, web_login

    client = TestClient(create_app(store))
    creds = make_user(store, "fern", "planner")
    web_login(client, creds["username"], creds["password"])
    page = client.get("/fieldnotes")
    assert page.status_code == 200 and "Field notes page" in page.text
    assert 'href="/fieldnotes"' in page.text  # in the navigation
    assert client.get("/api/fieldnotes").json() == {"text": "hello fern"}
    assert client.get("/api/me").json()["permissions"].count("fieldnotes:write") == 1
    code, out, err = run_cli(capsys, "--json", "fieldnotes", "hello")
    assert code == 0, err
    assert out.strip() == '{"hello": "field"}'
