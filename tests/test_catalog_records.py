"""The catalog's records are declared once (issue #13): each is a dataclass of
entitle/catalog/model.py (or sarights.py, cloud.py), and the pydantic model that validates its
rows in catalog.toml is derived from it (catalog/filemodel.py), so a new field, its constraint
and its form in the file are written in one place."""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import ValidationError

from entitle.catalog import cloud, model, sarights
from entitle.catalog.fields import FILE, FILLED, KEY, rule
from entitle.catalog.filemodel import file_model, record_of

CATALOG = Path(__file__).resolve().parents[1] / "src" / "entitle" / "catalog"


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    weight: int = field(metadata=rule(ge=1))


@dataclass(frozen=True, slots=True)
class Thing:
    id: str = field(metadata=KEY)
    count: int = field(metadata=rule(ge=0))
    tags: tuple[str, ...] = ()
    parts: tuple[Part, ...] = field(default=(), metadata=rule(default_factory=list))
    seen: tuple[str, ...] = field(default=(), metadata=FILLED)


def test_a_row_model_is_derived_from_its_record() -> None:
    Row = file_model(Thing)
    row = Row.model_validate(
        {"count": 2, "tags": ["a", "b"], "parts": [{"name": "x", "weight": 3}]}
    )
    thing = record_of(Thing, row, id="t1", seen=("s",))
    assert thing == Thing("t1", 2, ("a", "b"), (Part("x", 3),), ("s",))
    assert record_of(Thing, Row.model_validate({"count": 0}), id="t2") == Thing("t2", 0)


@pytest.mark.parametrize(
    ("row", "where", "says"),
    [
        ({"count": -1}, ("count",), "greater than or equal to 0"),
        ({"count": 1, "colour": "red"}, ("colour",), "Extra inputs"),
        ({"count": 1, "id": "x"}, ("id",), "Extra inputs"),  # the key is not in the row
        ({"count": 1, "seen": ["y"]}, ("seen",), "Extra inputs"),  # filled by the loader
        ({"count": 1, "tags": "a"}, ("tags",), "valid list"),  # an array, as TOML writes it
        ({"count": 1, "parts": [{"name": "x", "weight": 0}]}, ("parts", 0, "weight"), ">= 1"),
        ({}, ("count",), "Field required"),
    ],
)
def test_the_record_s_metadata_is_what_the_file_is_checked_against(
    row: dict[str, object], where: tuple[object, ...], says: str
) -> None:
    with pytest.raises(ValidationError) as err:
        file_model(Thing).model_validate(row)
    (problem,) = err.value.errors()
    assert problem["loc"] == where
    assert says.replace(">= ", "greater than or equal to ") in problem["msg"]


def test_no_catalog_row_is_declared_by_hand() -> None:
    """The only pydantic models written in catalog/ are the base of every row and the file's
    top-level layout; every row model comes from file_model()."""
    written = {}
    for path in sorted(CATALOG.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.bases:
                bases = {ast.unparse(b) for b in node.bases}
                if bases & {"BaseModel", "Strict", "_Strict"}:
                    written[f"{path.name}:{node.name}"] = sorted(bases)
    assert set(written) == {"filemodel.py:Strict", "loader.py:_CatalogFile"}, written


@pytest.mark.parametrize(
    "record",
    [
        *(
            getattr(model, name)
            for name in dir(model)
            if dataclasses.is_dataclass(getattr(model, name)) and name != "Catalog"
        ),
        sarights.Failover,
        sarights.SaRights,
        cloud.Ratio,
        cloud.Esu,
        cloud.CloudRights,
    ],
)
def test_every_field_of_a_record_is_in_its_row_or_says_why_not(record: type) -> None:
    row = set(file_model(record).model_fields)
    omitted = {f.name for f in dataclasses.fields(record) if "omit" in f.metadata.get(FILE, {})}
    assert row | omitted == {f.name for f in dataclasses.fields(record)}
    assert not row & omitted
