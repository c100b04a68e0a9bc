"""Read models: one function per concept, called alike by the CLI, the API and the dashboard."""
