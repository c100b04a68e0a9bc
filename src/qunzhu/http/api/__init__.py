"""The HTTP side of qunzhu: the app factory, API v1, webhooks, and the one error handler.

Build the app with :func:`qunzhu.http.app.create_app`; nothing is built at import time.
"""
