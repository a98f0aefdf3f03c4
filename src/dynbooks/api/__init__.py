"""The HTTP API (SPEC §9): FastAPI routes over the services; see :mod:`dynbooks.api.routes`."""
