"""Fake platforms for the connector tests: real HTTP / WebSocket servers on 127.0.0.1."""
