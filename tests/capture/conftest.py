"""Fixtures of the web-capture tests (defined in capture_kit); every capture test checks
that no process and no temporary folder of the capture remains."""

from capture.capture_kit import case_home, chromium, nothing_left_behind, site

__all__ = ["case_home", "chromium", "nothing_left_behind", "site"]
