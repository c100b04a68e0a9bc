"""The ``qunzhu`` command line (Typer + rich)."""
