"""Fixtures of the web-capture tests (defined in capture_kit)."""

from capture.capture_kit import case_home, chromium, site

__all__ = ["case_home", "chromium", "site"]
