"""Two writers at once lose no update, and a process killed (SIGKILL) in the middle of a large
import leaves the ledger as it was. Both on SQLite and on PostgreSQL, with real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from entitle.catalog import default_catalog
from entitle.ledger import audit, service
from entitle.ledger.importing import read_file
from entitle.ledger.models import Assignment, EntitlementRow, Event

from .kit import write_csv

WORKER = Path(__file__).with_name("worker.py")


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def test_two_writers_at_once_lose_no_update(ledger: service.Ledger, tmp_path: Path) -> None:
    # 20 user CALs; two processes each try to assign 15 of them one at a time: 30 tries for 20
    # units, so exactly 20 succeed and 10 are refused, whatever the interleaving.
    path = write_csv(
        tmp_path, "e.csv", "id,product,license,quantity\nCAL,windows-server,user-cal,20"
    )
    service.import_candidates(ledger, read_file(path, default_catalog(), {})[0])
    first = spawn("assign", ledger.url, "CAL", "15", "a")
    second = spawn("assign", ledger.url, "CAL", "15", "b")
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    accepted = [int(out.strip()) for out, _ in outputs]
    assert sum(accepted) == 20
    with Session(ledger.engine) as session:
        held = session.scalar(select(func.sum(Assignment.quantity)))
        assert held == 20
        count, found = audit.verify(session)
    # 1 init + 1 import + 20 assignments, one chain, no fork
    assert (count, found) == (22, [])


def test_a_killed_import_leaves_the_ledger_as_it_was(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    small = write_csv(tmp_path, "small.csv", "id,product,license,quantity\nK-0,rds,user-cal,5")
    service.import_candidates(ledger, read_file(small, default_catalog(), {})[0])
    rows = ["id,product,license,edition,version,quantity"]
    rows += [f"B-{i},windows-server,core,standard,2022,16" for i in range(1500)]
    big = write_csv(tmp_path, "big.csv", "\n".join(rows))
    worker = spawn("import", ledger.url, str(big))
    assert worker.stdout is not None
    line = worker.stdout.readline()
    assert line.startswith("imported "), (line, worker.stderr and worker.stderr.read())
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL
    with Session(ledger.engine) as session:
        refs = session.execute(select(EntitlementRow.ref)).scalars().all()
        assert refs == ["K-0"]
        assert session.scalar(select(func.count()).select_from(Event)) == 2
        assert audit.verify(session) == (2, [])
    # The ledger takes writes again: the same import, not killed, lands whole.
    report = service.import_candidates(ledger, read_file(big, default_catalog(), {})[0])
    assert report.added == 1500
