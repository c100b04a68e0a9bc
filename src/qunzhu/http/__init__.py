"""HTTP: the app factory, dependencies and errors; the REST API and the dashboard beside
each other (``api/`` and ``web/`` never import one another)."""
