"""What an Active Directory export can get wrong without anyone noticing, and how it is read.

- **Encoding.** Windows PowerShell 5.1's ``Export-Csv`` writes ASCII by default: every letter
  outside it becomes ``?`` (``jürgen`` → ``j?rgen``), a user UAL names ``jürgen`` no more. Names
  with ``?`` are the finding ``ascii-question-marks``, with counts and examples. Files saved by
  older tools in the Windows code page (cp1252) are read with ``--encoding cp1252``.
- **Type names.** A multi-valued property exported as it is (``MemberOf``, ``ProxyAddresses``)
  becomes the text ``Microsoft.ActiveDirectory.Management.ADPropertyValueCollection``: the
  finding ``ad-type-name`` says how to export it joined.
- **Domain.** A user id is ``domain\\name`` as UAL writes it; without a DistinguishedName (or
  csvde's ``DN``) the domain is ``--domain``, else the users are refused by name.
- **Disabled.** ``Enabled`` false, or csvde's ``userAccountControl`` with the ACCOUNTDISABLE bit
  (0x2).
Imports :mod:`entitle.source` and :mod:`entitle.importers` helpers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from entitle.importers.exports import Export, ExportRow, is_workbook, parse_export, read_any
from entitle.importers.result import Outcome
from entitle.source import Problem, Source
from entitle.text import bom_encoding

FALSE = {"false", "no", "0"}
ACCOUNTDISABLE = 0x2
TYPE_NAME = "Microsoft.ActiveDirectory.Management."
NAME_COLUMNS = ("samaccountname", "name", "displayname", "givenname", "surname")
EXAMPLES = 3
ENCODING_HINT = (
    "save it as UTF-8 (Export-Csv -Encoding UTF8); a file in the Windows code page is read "
    "with --encoding cp1252"
)


def read(path: Path, encoding: str | None) -> tuple[list[Export], list[Problem]]:
    """The exports of one file; ``encoding`` (e.g. cp1252) decodes a CSV file that is not UTF."""
    if encoding is None or is_workbook(path):
        exports, problems = read_any(path)
        return exports, [
            Problem(p.source, p.message, ENCODING_HINT) if "not UTF-8" in p.message else p
            for p in problems
        ]
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        return [], [Problem(Source(file), f"cannot read the file: {error.strerror}", "check it")]
    marked, mark = bom_encoding(data)
    if mark:  # a byte order mark says the encoding better than the option
        data, encoding = data[mark:], marked
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return [], [Problem(Source(file, line), f"not {encoding} text", "check --encoding")]
    export, problems = parse_export(text.encode("utf-8"), path, file)
    return ([export] if export else []), problems


def disabled(row: ExportRow) -> str:
    """Why the account is disabled ("" when it is not)."""
    if row.get("enabled").lower() in FALSE:
        return "disabled account"
    flags = row.get("useraccountcontrol")
    try:
        value = int(flags, 0) if flags else 0
    except ValueError:
        return ""
    return "disabled account (userAccountControl has ACCOUNTDISABLE, 0x2)" if value & 2 else ""


@dataclass
class Checks:
    """Collects what the rows say about the export, reported once at the end."""

    no_domain: list[tuple[str, Source]] = field(default_factory=list)
    type_names: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    marked: list[tuple[str, Source]] = field(default_factory=list)

    def row(self, export: Export, row: ExportRow) -> None:
        for column, value in row.cells.items():
            if value.startswith(TYPE_NAME):
                name = next((h for h in export.header if h.lower() == column), column)
                self.type_names[(export.file, name, value)] += 1
        for column in NAME_COLUMNS:
            value = row.cells.get(column, "")
            if "?" in value:
                self.marked.append((value, row.source))
                break

    def report(self, domain: str | None, out: Outcome) -> None:
        if self.no_domain and not domain:
            shown = ", ".join(f"{name} (line {where.line})" for name, where in self.no_domain[:5])
            more = f" and {len(self.no_domain) - 5} more" if len(self.no_domain) > 5 else ""
            out.error(
                self.no_domain[0][1],
                f"{len(self.no_domain)} users have no domain (no DistinguishedName or DN to "
                f"take it from): {shown}{more}",
                "give --domain NETBIOS, the domain UAL writes before the name (CONTOSO\\alice: "
                "--domain CONTOSO), or export DistinguishedName",
            )
        for (file, column, value), n in sorted(self.type_names.items()):
            out.warn(
                "ad-type-name",
                f"{column} holds the type name {value} in {n} rows, not its values: export it "
                f"joined, e.g. Select-Object SamAccountName,DistinguishedName,Enabled,"
                f"@{{n='{column}';e={{$_.{column} -join ';'}}}} | Export-Csv -Encoding UTF8",
                file,
            )
        if self.marked:
            shown = ", ".join(f"{v} ({w})" for v, w in self.marked[:EXAMPLES])
            out.warn(
                "ascii-question-marks",
                f"{len(self.marked)} names hold '?' where Windows PowerShell 5.1's Export-Csv "
                f"wrote ASCII for a letter it could not (e.g. {shown}); these users will not "
                "match UAL's names: export again with -Encoding UTF8",
                str(self.marked[0][1].file),
            )
