"""Svidok: an evidence locker with a tamper-evident custody ledger."""

from __future__ import annotations

__version__ = "0.1.0"
TOOL_NAME = "svidok"
