"""A shop backend that embeds loyalty over HTTP, with FastAPI (docs/embedding/fastapi.md).

``api.create_app`` builds the app; ``app`` is the one configured from the environment,
which ``uvicorn examples.shop_backend.app:app`` runs.
"""
