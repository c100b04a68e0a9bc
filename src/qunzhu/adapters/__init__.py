"""Adapters: everything that speaks one platform. ``importers/`` reads chat exports."""
