"""The catalog: a SQL projection of the ledger, rebuilt from it at will."""

from svidok.catalog.db import Catalog, CatalogError

__all__ = ["Catalog", "CatalogError"]
