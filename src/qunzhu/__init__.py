"""qunzhu."""
