"""Write a new Alembic revision from the difference between the models and the schema.

    .venv/bin/python scripts/new_migration.py "add vetting requests"

Imports every registered domain's models (``ssaplan.domains.import_models``), upgrades a
fresh SQLite database to the current heads, and autogenerates the revision against it
(``render_as_batch`` so SQLite can alter tables). Review the file it writes: rename
constraints if needed, add data migrations, and keep one head (docs/architecture.md).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].strip():
        print(__doc__, file=sys.stderr)
        return 2
    from alembic import command

    from ssaplan import domains
    from ssaplan.core.store import Base, Store, alembic_config, migrate

    domains.import_models()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/autogen.db"
        store = Store(url)
        migrate(store)
        cfg = alembic_config(url)
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            cfg.attributes["target_metadata"] = Base.metadata
            command.revision(cfg, message=argv[0], autogenerate=True)
        store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
