"""Authentication and authorization: who is asking, and what they may do.

- :mod:`.credentials` — argon2 passwords, ``qz_<prefix>_<secret>`` API tokens (SHA-256 only)
- :mod:`.sessions`    — signed session cookies with a session-bound CSRF token
- :mod:`.operator_sessions` — the sessions kept on the server: listed, revoked
- :mod:`.ratelimit`   — failed logins per username and address (memory or Redis)
- :mod:`.permissions` — roles → capabilities, ``authorize``, personal-data masking
- :mod:`.operators`   — creating operators, roles and tokens (each change audited)
- :mod:`.bootstrap`   — the first superuser on first run
"""
