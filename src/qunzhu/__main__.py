"""`python -m qunzhu ...`: the same as the `qunzhu` command (serve starts its live worker so,
with the interpreter it runs under, whether or not the script is on PATH)."""

from qunzhu.cli.main import main

main()
