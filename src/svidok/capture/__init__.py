"""Web capture: a page loaded in headless Chromium, every request recorded.

Public surface::

    capture(home, url, CaptureOptions(case=..., collector=...), actor) -> CaptureReport
    Limits(timeout=..., max_bytes=..., block_private=..., allow_untrusted=...)

Errors: :class:`svidok.errors.CaptureError` (a subclass of ``IntakeError``) for every refusal
or failure (bad URL, limit, timeout, redirect loop, untrusted certificate); when it is
raised nothing has been stored.
"""

from svidok.capture.fetch import Limits
from svidok.capture.store import (
    CaptureOptions,
    CaptureReport,
    StoredOutput,
    capture,
    options_for,
)

__all__ = ["CaptureOptions", "CaptureReport", "Limits", "StoredOutput", "capture", "options_for"]
