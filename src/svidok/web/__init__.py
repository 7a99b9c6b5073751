"""The investigators' web app: server-rendered pages over the same Python API as the JSON
API and the command line, served by ``svidok serve`` at ``/``."""

from __future__ import annotations

from svidok.web.app import mount

__all__ = ["mount"]
