"""Product keys (MAK/KMS) at rest: encrypted with Fernet (AES-128-CBC and HMAC-SHA256).

The key comes from the ``ENTITLE_KEY`` environment variable (a Fernet key, as
``Fernet.generate_key()`` prints), or else from a key file beside an SQLite ledger
(``entitle.db.key``), created by ``entitle ledger init`` with permissions 0600. Whoever can read
that key is an *editor*: only editors can store or see product keys. A PostgreSQL ledger has no
file beside it, so it needs ``ENTITLE_KEY``. Imports only the ``cryptography`` package.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class KeyProblem(Exception):
    """The encryption key is missing, unreadable or wrong (a system problem, told plainly)."""


def key_file(db_file: Path) -> Path:
    return db_file.with_name(db_file.name + ".key")


def create_key_file(db_file: Path) -> Path | None:
    """Create the key file beside an SQLite ledger (0600), unless one exists."""
    path = key_file(db_file)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None
    with os.fdopen(fd, "wb") as fh:
        fh.write(Fernet.generate_key() + b"\n")
    return path


def load_key(db_file: Path | None, env: Mapping[str, str] | None = None) -> Fernet | None:
    """The Fernet of this ledger, or ``None`` when this user holds no key (not an editor)."""
    env = os.environ if env is None else env
    text = env.get("ENTITLE_KEY")
    where = "ENTITLE_KEY"
    if not text and db_file is not None:
        path = key_file(db_file)
        where = str(path)
        try:
            text = path.read_text(encoding="ascii").strip()
        except (FileNotFoundError, PermissionError):
            return None
    if not text:
        return None
    try:
        return Fernet(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as error:
        raise KeyProblem(f"{where}: not a Fernet key ({error})") from error


def encrypt(fernet: Fernet, secret: str) -> str:
    return fernet.encrypt(secret.encode("utf-8")).decode("ascii")


def decrypt(fernet: Fernet, token: str) -> str:
    try:
        return fernet.decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as error:
        raise KeyProblem("the key does not open this product key: wrong ENTITLE_KEY?") from error
