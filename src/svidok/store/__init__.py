"""The OCFL 1.1 storage root where Svidok keeps originals bit for bit."""

from __future__ import annotations

from svidok.store.layout import HashedNTupleLayout
from svidok.store.ocfl import LogicalFile, NewObject, ObjectInfo, OcflStore
from svidok.store.problems import ProblemKind, StoreProblem

__all__ = [
    "HashedNTupleLayout",
    "LogicalFile",
    "NewObject",
    "ObjectInfo",
    "OcflStore",
    "ProblemKind",
    "StoreProblem",
]
