"""Engines: value, roles, tiers, health, funnel and suggestions; pure where they can be."""
