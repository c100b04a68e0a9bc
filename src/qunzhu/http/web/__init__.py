"""The operator's dashboard: server-rendered pages (Jinja2), static files, zh-CN and en.

Pages are plain FastAPI routes that use the same dependencies as the API
(``qunzhu.http.deps.require``) and render through :func:`qunzhu.http.templating.render`.
"""
