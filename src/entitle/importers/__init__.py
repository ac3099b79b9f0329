"""Importers: real exports (UAL, SIL, Active Directory, RVTools, Hyper-V, any CSV with a header
mapping) turned into the estate's tables.

Each importer reads files and returns an :class:`~entitle.importers.result.ImportResult` (rows
for the estate tables, what it mapped, what it skipped and why, problems and findings); it never
prints. :mod:`~entitle.importers.reduce` reduces large evidence on DuckDB or Spark;
:mod:`~entitle.importers.merge` merges the rows into an estate folder, all tables or none.
May import :mod:`entitle.source`, :mod:`entitle.catalog` and :mod:`entitle.estate`; nothing from
rules, optimize, position or the faces.
"""
