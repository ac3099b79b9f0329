"""The engine's messages in the pages' language: a refusal written for the command line names
its flags (``--dedicated``, ``--map``) and commands (``see entitle ledger list``); a page names
the field or the part of the page instead. The API keeps the engine's words (its docs name the
same options as the command line)."""

from __future__ import annotations

import re

PHRASES = (
    (" (see entitle ledger list)", " (see the ledger's entitlements)"),
    ("see entitle ledger list", "see the ledger's entitlements"),
    ("entitle ledger import on the command line", "the command line's ledger import"),
)
FIELDS = {
    "users": "“Users who access the servers”",
    "dedicated": "“% of users with their own devices”",
    "devices-per-user": "“Devices per such user”",
    "shared": "“% of users on shared devices”",
    "shared-devices": "“Shared devices”",
    "years": "“Years to project”",
    "headcount-growth": "“Head-count growth”",
    "devices-growth": "“Devices added per user”",
    "shared-growth": "“Shared devices growth”",
    "device-growth": "“More devices per user expected”",
    "no-device-growth": "“More devices per user expected” (unticked)",
    "user-price": "“User CAL price”",
    "device-price": "“Device CAL price”",
    "product": "“Whose CALs”",
    "as-of": "“As of”",
    "map": "the header mapping",
    "vcpus-map": "the header mapping",
    "from": "“From holder”",
    "to": "“To”",
    "reason": "“Exception to the 90-day rule”",
    "since": "“evidence from”",
    "until": "“evidence until”",
    "server": "“the server the files come from”",
    "domain": "“NetBIOS domain”",
    "external-ou": "“external users' OUs”",
    "external-group": "“external users' groups”",
    "external-attribute": "“COLUMN=VALUE marking external users”",
    "date-style": "the date style",
    "into": "“Into”",
}
FLAG = re.compile(r"--([a-z][a-z-]*)")


def plain(message: object) -> str:
    """``message`` with command-line flags and commands replaced by the page's words."""
    text = str(message)
    for cli, page in PHRASES:
        text = text.replace(cli, page)
    return FLAG.sub(lambda m: FIELDS.get(m.group(1), m.group(0)), text)
