"""The estate: immutable records of what an organisation runs and owns, and the loader that reads
them from a folder of CSV files or one ``.xlsx`` workbook.

May import :mod:`entitle.source` and :mod:`entitle.catalog` (to check product ids), nothing higher.
"""

from entitle.estate.records import (
    Access,
    Device,
    Entitlement,
    Estate,
    Host,
    Managed,
    Ose,
    Price,
    Software,
    User,
)

__all__ = [
    "Access",
    "Device",
    "Entitlement",
    "Estate",
    "Host",
    "Managed",
    "Ose",
    "Price",
    "Software",
    "User",
]
