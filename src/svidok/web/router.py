"""The web app's routes (every page module adds its own to this router)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
