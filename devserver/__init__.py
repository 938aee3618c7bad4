"""Local development server: the whole API without Docker, on an embedded moto server.

``template.yaml`` stays the single source of truth: routes, handlers, environment, tables,
bucket, queues and secrets are all read from it (see :mod:`devserver.template`).
"""
