"""The catalog: every product fact the licensing rules need (products, editions, versions,
licensing models, CAL kinds, minimum cores, the core factor table, VM rights, CAL suites and
bridges, indicative prices), kept as data in ``data/catalog.toml`` with the source of each fact.

Imports only the standard library and pydantic. Everything above it may import it.
"""

from entitle.catalog.loader import CatalogError, default_catalog, load_catalog, parse_catalog
from entitle.catalog.model import Catalog

__all__ = ["Catalog", "CatalogError", "default_catalog", "load_catalog", "parse_catalog"]
