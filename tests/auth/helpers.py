"""Constants shared by the auth tests."""

from __future__ import annotations

from datetime import UTC, datetime

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
USER_PASSWORD = "correct horse battery staple"
