"""A second process for the concurrency and kill tests (run as a script, not collected).

worker.py assign URL REF COUNT TAG   assign 1 unit of REF to user TAG-i, COUNT times;
                                     prints how many were accepted
worker.py import URL FILE            import FILE in one transaction, printing progress and
                                     waiting for a line on stdin after each step
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from entitle.catalog import default_catalog
from entitle.ledger import db, moves, service
from entitle.ledger.importing import read_file


def main(argv: list[str]) -> int:
    command, url = argv[0], db.resolve_url(argv[1])
    ledger = service.connect(url, f"worker-{command}", {})
    if command == "assign":
        ref, count, tag = argv[2], int(argv[3]), argv[4]
        accepted = 0
        for i in range(count):
            outcome = moves.assign(ledger, ref, ("user", f"{tag}-{i}"), 1, date(2025, 1, 2))
            accepted += outcome.ok
        print(accepted, flush=True)
        return 0
    candidates, problems = read_file(Path(argv[2]), default_catalog(), {})
    if problems:
        print(problems, file=sys.stderr)
        return 2

    def progress(done: int, total: int) -> None:
        print(f"imported {done}/{total}", flush=True)
        # Wait here, mid-transaction, for the test to kill us (or to close stdin): a kill lands
        # inside the import on a loaded machine as on a quiet one, never after the commit.
        sys.stdin.readline()

    service.import_candidates(ledger, candidates, progress, every=100)
    print("committed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
