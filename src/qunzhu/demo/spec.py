"""Placeholder replaced below."""
DEMO_SPEC = "slug: demo\n"
