"""The store: SQLAlchemy 2 tables, sessions and Alembic migrations."""

from qunzhu.store.session import Store, make_engine

__all__ = ["Store", "make_engine"]
