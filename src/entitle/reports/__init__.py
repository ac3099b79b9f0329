"""Reports a CFO or an auditor can be handed: one report model built from a position
(:mod:`~entitle.reports.model`), rendered to the terminal (Rich), an Excel workbook, one
self-contained HTML page with inline SVG charts, and PDF (the HTML printed by headless Chromium).

May import source, catalog, estate, rules, optimize, position and whatif; never the faces (cli).
"""

from entitle.reports.model import Report, build_report

__all__ = ["Report", "build_report"]
