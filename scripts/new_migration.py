"""Write the next Alembic migration from the models: `python scripts/new_migration.py "message"`.

It migrates a scratch SQLite database to the current head, compares it with the models and
writes what differs as a new revision numbered after the last one. Read the file it writes
before committing it: autogenerate does not see renames, and every migration must also run
on PostgreSQL (the test suite runs them on both).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from qunzhu.store.migrate import alembic_config, upgrade
from qunzhu.store.session import make_engine


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    config = alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    rev_id = f"{int(head or 0) + 1:04d}"
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        upgrade(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            script = command.revision(config, sys.argv[1], autogenerate=True, rev_id=rev_id)
        engine.dispose()
    print(f"wrote {getattr(script, 'path', script)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
