"""The documentation ships with the project and holds together.

* Every rule section that ``src/`` cites (``§3.6``, ``licensing-rules.md §1.5``) is a heading of
  ``docs/licensing-rules.md``, which keeps the numbering of the rules reference (§0 … §12 and
  their subsections), so a newcomer can look up any cited rule from the repository alone.
* README.md and every page under ``docs/`` link only to files inside the repository, and every
  such link resolves: a clone has no ``../shared`` beside it.

The link check is strict: the version 2 rule pages (``RULE_PAGES``, written by the rules work and
linked from docs/licensing-rules.md) must exist.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "docs" / "licensing-rules.md"

# The sections of the rules reference, which docs/licensing-rules.md keeps (src/ cites them).
REFERENCE_SECTIONS = (
    ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]
    + [f"1.{i}" for i in range(1, 10)]
    + [f"3.{i}" for i in range(8)]
    + [f"6.{i}" for i in range(1, 4)]
    + [f"7.{i}" for i in range(1, 5)]
)
# Pages of the version 2 rules, written by the rules work and linked from licensing-rules.md.
RULE_PAGES = (
    "docs/rules/indirect-access-and-multiplexing.md",
    "docs/rules/software-assurance-and-vm-history.md",
    "docs/rules/processor-licenses-and-subscription-editions.md",
    "docs/rules/reassignment.md",
    "docs/rules/cloud-and-hybrid.md",
)

CITATION = re.compile(r"§\s?(\d+(?:\.\d+)?)")
HEADING = re.compile(r"^#{1,6}\s+§(\d+(?:\.\d+)?)\b", re.MULTILINE)
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
INLINE_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.M)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def citations(text: str) -> set[str]:
    """The rule sections a text cites. Lines about the data-formats reference (whose sections
    are numbered on their own, e.g. ``data-formats §4.1``) are not citations of the rules."""
    found: set[str] = set()
    for line in text.splitlines():
        if "data-formats" not in line:
            found.update(CITATION.findall(line))
    return found


def headings(markdown: str) -> set[str]:
    """The section numbers of the ``§N`` / ``§N.M`` headings of a page."""
    return set(HEADING.findall(markdown))


def links(markdown: str) -> list[str]:
    """Link and image targets of a Markdown page, outside code blocks and code spans."""
    prose = INLINE_CODE.sub("", FENCE.sub("", markdown))
    return INLINE_LINK.findall(prose) + REFERENCE_LINK.findall(prose)


def local_target(page: Path, target: str) -> Path | None:
    """The file a relative link points to (anchor dropped), normalised by its text alone (no
    symbolic link of this machine followed); ``None`` for a URL or an anchor within the page."""
    if SCHEME.match(target) or target.startswith("#"):
        return None
    path = target.split("#", 1)[0].split("?", 1)[0]
    if not path:
        return None
    base = ROOT if path.startswith("/") else page.parent
    return Path(os.path.normpath(base / path.lstrip("/")))


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def source_files() -> list[Path]:
    return [
        p for p in sorted((ROOT / "src").rglob("*")) if p.is_file() and "__pycache__" not in p.parts
    ]


# -- the helpers themselves ----------------------------------------------------------------------


def test_citations_are_found_and_data_formats_sections_are_not_rule_citations() -> None:
    text = (
        '"""Windows Server (licensing-rules.md §3.1–§3.4, §4)."""\n'
        "ADMIN_EXEMPT_PER_OSE = 2  # §1.5 item 2\n"
        'choice = "... (§12 q4). With SA: unlimited VMs."\n'
        "Headers (licensing data-formats §4.1, Pivot Data tabs)\n"
    )
    assert citations(text) == {"3.1", "3.4", "4", "1.5", "12"}


def test_headings_are_numbered_sections_only() -> None:
    page = "# Title\n## §0 Conventions\n### §1.5 When no CAL\ntext §9 here\n## Rules added\n"
    assert headings(page) == {"0", "1.5"}


def test_links_outside_code_and_their_targets() -> None:
    page = (
        "See [the format](docs/estate-format.md#errors) and ![shot](docs/web.png).\n"
        "[ref]: ../shared/spec/estate-format.md\n"
        "```\n[not a link](nowhere.md)\n```\n"
        "`[nor this](nowhere.md)` and [a URL](https://www.microsoft.com/licensing/terms).\n"
    )
    found = links(page)
    assert found == [
        "docs/estate-format.md#errors",
        "docs/web.png",
        "https://www.microsoft.com/licensing/terms",
        "../shared/spec/estate-format.md",
    ]
    readme = ROOT / "README.md"
    assert local_target(readme, found[0]) == ROOT / "docs" / "estate-format.md"
    assert local_target(readme, found[2]) is None
    assert local_target(readme, found[3]) == ROOT.parent / "shared" / "spec" / "estate-format.md"
    assert not ROOT.parent.joinpath("shared").is_relative_to(ROOT)


# -- the repository ------------------------------------------------------------------------------


def test_the_rules_page_keeps_every_section_of_the_reference() -> None:
    missing = sorted(set(REFERENCE_SECTIONS) - headings(RULES.read_text("utf-8")), key=_order)
    assert not missing, f"docs/licensing-rules.md lacks the headings §{', §'.join(missing)}"


def test_every_section_cited_in_src_is_a_heading_of_the_rules_page() -> None:
    sections = headings(RULES.read_text("utf-8"))
    cited: dict[str, list[str]] = {}
    for path in source_files():
        try:
            text = path.read_text("utf-8")
        except UnicodeDecodeError:
            continue  # a binary file cites nothing
        for number in citations(text):
            cited.setdefault(number, []).append(str(path.relative_to(ROOT)))
    assert len(cited) >= 20, "src/ should cite the rules; did the pattern stop matching?"
    unknown = {n: files for n, files in cited.items() if n not in sections}
    assert not unknown, "cited in src/ but not a heading of docs/licensing-rules.md: " + "; ".join(
        f"§{n} in {', '.join(sorted(set(files)))}" for n, files in sorted(unknown.items())
    )


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_links_stay_inside_the_repository_and_resolve(page: Path) -> None:
    bad: dict[str, None] = {}  # each problem once, in the page's order
    for target in links(page.read_text("utf-8")):
        path = local_target(page, target)
        if path is None:
            continue
        if not path.is_relative_to(ROOT):
            bad[f"{target} leaves the repository (a clone has nothing beside it)"] = None
        elif not path.exists():
            bad[f"{target} does not exist"] = None
    assert not bad, f"{page.relative_to(ROOT)}: " + "; ".join(bad)


def test_the_version_2_rule_pages_exist_and_are_linked_from_the_rules_page() -> None:
    text = RULES.read_text("utf-8")
    linked = {str(p.relative_to(ROOT)) for t in links(text) if (p := local_target(RULES, t))}
    assert set(RULE_PAGES) <= linked
    missing = [name for name in RULE_PAGES if not (ROOT / name).is_file()]
    assert not missing, f"written by the rules work, not there yet: {', '.join(missing)}"


def test_readme_links_the_contract_and_the_rules() -> None:
    readme = ROOT / "README.md"
    targets = {local_target(readme, t) for t in links(readme.read_text("utf-8"))}
    assert ROOT / "docs" / "estate-format.md" in targets
    assert RULES in targets


def _order(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in number.split("."))
