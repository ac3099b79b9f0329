"""The HTML report printed to PDF by headless Chromium (the Debian package ``chromium``).

Chromium is an optional system tool: :func:`find_chromium` says whether it is there, and
:func:`html_to_pdf` raises :class:`PdfUnavailable` with a message a person can act on when it is
not, or when printing fails. The page is printed from a private temporary folder with a throwaway
profile, no network services and no header or footer (which would carry the file's path and the
time). Imports nothing of entitle.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 120


class PdfUnavailable(Exception):
    """PDF output cannot be made here (no Chromium, or it failed)."""


def find_chromium() -> str | None:
    override = os.environ.get("ENTITLE_CHROMIUM")
    if override:
        return shutil.which(override) or (override if Path(override).is_file() else None)
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_flags(profile: Path) -> list[str]:
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ]


def html_to_pdf(html: str, generated_at: datetime | None = None) -> bytes:
    """The PDF of ``html``; its creation dates are set to ``generated_at`` when given."""
    browser = find_chromium()
    if browser is None:
        raise PdfUnavailable(
            "--pdf needs Chromium to print the HTML report, and none was found "
            "(install the Debian package `chromium`, or set ENTITLE_CHROMIUM to a Chrome binary)"
        )
    with tempfile.TemporaryDirectory(prefix="entitle-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        out = Path(tmp) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            browser,
            *chromium_flags(Path(tmp) / "profile"),
            "--no-pdf-header-footer",
            "--print-to-pdf-no-header",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfUnavailable(f"Chromium could not print the report: {exc}") from exc
        if not out.exists() or out.stat().st_size == 0:
            tail = (done.stderr or "").strip().splitlines()[-3:]
            raise PdfUnavailable(
                "Chromium did not write the PDF (exit status "
                f"{done.returncode}): " + " / ".join(tail)
            )
        data = out.read_bytes()
    return stamp_dates(data, generated_at) if generated_at is not None else data


DATE_RE = re.compile(rb"/(CreationDate|ModDate) \(D:[0-9]{14}[^)]*\)")


def stamp_dates(pdf: bytes, when: datetime) -> bytes:
    """Set the PDF's creation and modification dates to ``when`` (same length, so the
    cross-reference offsets stay right)."""

    def repl(m: re.Match[bytes]) -> bytes:
        old = m.group(0)
        new = b"/" + m.group(1) + b" (D:" + when.strftime("%Y%m%d%H%M%S").encode() + b"Z)"
        return new.ljust(len(old)) if len(new) <= len(old) else old

    return DATE_RE.sub(repl, pdf)
