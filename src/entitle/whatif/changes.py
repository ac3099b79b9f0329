"""Reading a what-if change file: YAML, every change with the line it was written on.

The file is a list of changes (or a mapping whose ``changes`` key holds the list). Each change is
a mapping with one verb key — ``add``, ``remove`` or ``set`` — naming what it changes, and the
fields of that thing as in the estate format::

    changes:
      - add: host                      # a new physical server
        host: hv4
        processors: 2
        cores_per_processor: 16
      - set: software                  # upgrade erp1's Windows Server to 2025
        ose: erp1-os
        product: windows-server
        version: 2025
      - add: users                     # 40 more people like a.adams
        count: 40
        like: a.adams
      - set: price
        product: windows-server
        license: core
        edition: standard
        price: 75.10

Values are read as the text written (``2025`` stays "2025", ``75.10`` stays exactly 75.10), so
nothing is lost to YAML's number guessing. Problems are values: ``CHANGES.yaml:LINE: message``.
Which things a change may name comes from :mod:`entitle.estate.schema` (every table of the
estate). Imports only :mod:`entitle.source`, the estate's schema and PyYAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from entitle.estate.schema import SCHEMA
from entitle.source import Problem, Source

VERBS = ("add", "remove", "set")
# Every table of the estate by its target name (schema), with `vm` (an OSE that is virtual) and,
# for `add`, `users` and `devices` (many at once, like an existing one).
_ONE = tuple(spec.target for spec in SCHEMA)
_ALSO = {"ose": ("vm",)}
_MANY = {"user": ("users",), "device": ("devices",)}
TARGETS: dict[str, tuple[str, ...]] = {
    "add": tuple(t for one in _ONE for t in (one, *_ALSO.get(one, ()), *_MANY.get(one, ()))),
    "remove": tuple(t for one in _ONE for t in (one, *_ALSO.get(one, ()))),
    "set": tuple(t for one in _ONE for t in (one, *_ALSO.get(one, ()))),
}


@dataclass(frozen=True, slots=True)
class Change:
    """One change: ``verb`` (add/remove/set) of ``target`` with ``fields`` as text."""

    verb: str
    target: str
    fields: dict[str, str]
    source: Source
    lines: dict[str, int] = field(default_factory=dict)  # line of each field

    def where(self, name: str) -> Source:
        """The source of one field (the change's own line when the field is absent)."""
        line = self.lines.get(name)
        return Source(self.source.file, line) if line else self.source

    def describe(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.fields.items())
        return f"{self.verb} {self.target}" + (f" ({shown})" if shown else "")


def read_changes(path: Path) -> tuple[tuple[Change, ...], list[Problem]]:
    """The changes in the file at ``path``, or problems (unreadable file, bad YAML, bad shape)."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        return (), [Problem(Source(name), f"cannot read the change file: {exc.strerror}")]
    except UnicodeDecodeError:
        return (), [Problem(Source(name), "the change file is not UTF-8 text", "save it as UTF-8")]
    return parse_changes(text, name)


MAX_DEPTH = 32  # lists and mappings inside each other; a change file needs three


def parse_changes(
    text: str, name: str = "CHANGES.yaml"
) -> tuple[tuple[Change, ...], list[Problem]]:
    problems: list[Problem] = []
    try:
        too_deep = _too_deep(text, name)
        if too_deep is not None:
            return (), [too_deep]
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        return (), [Problem(Source(name, line), f"not valid YAML: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return (), [Problem(Source(name), f"not valid YAML: {exc}")]
    except RecursionError:  # (the depth is checked above; a safety net)
        return (), [Problem(Source(name, 1), "nested too deeply", "a change file is a list")]
    if root is None:
        return (), [Problem(Source(name), "the change file is empty", "list some changes")]
    items = root
    if isinstance(root, yaml.MappingNode):
        found = [
            v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "changes"
        ]
        if not found:
            return (), [_shape(name, root)]
        items = found[0]
    if not isinstance(items, yaml.SequenceNode):
        return (), [_shape(name, items)]
    changes = []
    for node in items.value:
        change = _change(name, node, problems)
        if change is not None:
            changes.append(change)
    return tuple(changes), problems


def _too_deep(text: str, name: str) -> Problem | None:
    """A problem on the line where lists or mappings nest more than :data:`MAX_DEPTH` deep,
    found from the parser's events (which do not recurse) before the composer, which does:
    20,000 ``[`` raised RecursionError."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else 1
                message = f"lists or mappings nested more than {MAX_DEPTH} deep"
                return Problem(Source(name, line), message, "a change file is a list of changes")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def _shape(name: str, node: yaml.Node) -> Problem:
    return Problem(
        Source(name, node.start_mark.line + 1),
        "expected a list of changes",
        "write `changes:` followed by items like `- add: host`",
    )


def _change(name: str, node: yaml.Node, problems: list[Problem]) -> Change | None:
    here = Source(name, node.start_mark.line + 1)
    if not isinstance(node, yaml.MappingNode):
        problems.append(Problem(here, "a change must be a mapping", "e.g. `- add: host`"))
        return None
    fields: dict[str, str] = {}
    lines: dict[str, int] = {}
    verbs: list[tuple[str, str]] = []
    ok = True
    for key, value in node.value:
        line = key.start_mark.line + 1
        if not isinstance(key, yaml.ScalarNode) or not isinstance(value, yaml.ScalarNode):
            problems.append(
                Problem(Source(name, line), "each field must be a single value", "no lists here")
            )
            ok = False
            continue
        word = key.value.strip().lower()
        text = value.value.strip()
        if word in VERBS:
            verbs.append((word, text.lower()))
            here = Source(name, line)
        elif word in fields:
            problems.append(Problem(Source(name, line), f"{word} is given twice"))
            ok = False
        else:
            fields[word] = "" if value.tag.endswith(":null") and text in ("~", "null") else text
            lines[word] = line
    if len(verbs) != 1:
        problems.append(
            Problem(
                here,
                "a change needs exactly one of add, remove or set",
                "e.g. `- add: host` or `- set: software`",
            )
        )
        return None
    verb, target = verbs[0]
    if target not in TARGETS[verb]:
        problems.append(
            Problem(here, f"cannot {verb} '{target}'", "write one of: " + ", ".join(TARGETS[verb]))
        )
        return None
    return Change(verb, target, fields, here, lines) if ok else None
