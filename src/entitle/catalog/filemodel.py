"""The catalog file's rows, derived from the records (issue #13: catalog records declared once).

Each record of :mod:`entitle.catalog.model` is a frozen dataclass, and it is the only place a
field is declared: its name, type and default, and in the field's metadata what the file adds
(``rule`` of :mod:`entitle.catalog.model`): a pydantic constraint (``ge``, ``pattern``,
``min_length``…), another type the file writes it as (components as ``"product:right"`` text),
or that the file does not write it at all (``KEY``, the table's key; ``FILLED``, filled by the loader from another table).
:func:`file_model` turns a record into the pydantic model that validates its rows in the TOML
(unknown keys are errors), so a new field is added to the record and nowhere else.

Imports pydantic and the records' module.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, create_model

from entitle.catalog.fields import FILE

R = TypeVar("R")


class Strict(BaseModel):
    """A file row: unknown keys are errors (a typo is caught at load time); frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_RECORDS: dict[type[BaseModel], type] = {}  # each generated row model → its record


@functools.cache
def file_model(record: type) -> type[BaseModel]:
    """The pydantic model of ``record``'s rows in the catalog file (a dataclass, see above);
    a field holding records is validated by their own row model."""
    hints = typing.get_type_hints(record)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        how = dict(f.metadata.get(FILE, {}))
        if "omit" in how:
            continue
        kind = how.pop("type", _as_written(hints[f.name]))
        if "default" in how or "default_factory" in how:  # the file's own (another type)
            fields[f.name] = (kind, Field(**how))
        elif f.default == () and typing.get_origin(kind) is list:  # an empty array by default
            fields[f.name] = (kind, Field(default_factory=list, **how))
        elif f.default is not dataclasses.MISSING:
            fields[f.name] = (kind, Field(f.default, **how))
        elif f.default_factory is not dataclasses.MISSING:
            fields[f.name] = (kind, Field(default_factory=f.default_factory, **how))
        else:
            fields[f.name] = (kind, Field(..., **how))
    model: type[BaseModel] = create_model(f"{record.__name__}Row", __base__=Strict, **fields)
    _RECORDS[model] = record
    return model


def _as_written(kind: Any) -> Any:
    """The type the file writes a record's field as: a ``tuple[X, ...]`` is a TOML array, read
    as ``list[X]`` (its errors then speak of a list, as the file writes one); a record is a
    table, read by its own row model."""
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        return file_model(kind)
    if typing.get_origin(kind) is tuple:
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return list[_as_written(args[0])]  # type: ignore[misc]
    return kind


def record_of(record: type[R], row: BaseModel, **filled: Any) -> R:
    """The record of a validated file row (arrays as tuples, tables as their records), with
    ``filled`` the fields the file does not write or writes in another form."""
    values = {k: _value(getattr(row, k)) for k in type(row).model_fields if k not in filled}
    return record(**values, **filled)


def _value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return record_of(_RECORDS[type(value)], value)
    if isinstance(value, list):
        return tuple(_value(v) for v in value)
    return value
