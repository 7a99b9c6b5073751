"""The JSON API (FastAPI): a thin layer over the casework API, under ``/api/v1``.

Public surface: :func:`create_app`. Errors are one envelope
``{"error": {"code": ..., "message": ...}}``; see :mod:`svidok.api.errors`.
"""

from svidok.api.app import create_app

__all__ = ["create_app"]
