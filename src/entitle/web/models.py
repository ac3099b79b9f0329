"""The web workspace's tables, kept in the ledger's database and its migration chain.

They are the web's, so they live in the web's package (they lived in ``entitle.ledger.
workspace`` until issue 13): the ledger knows nothing of organisations or users.

Organisations (tenants), users, memberships with a role, personal API tokens (only their
SHA-256 is stored), estates uploaded to an organisation, and background jobs whose progress a
client polls. They share the ledger's declarative ``Base`` so that one Alembic chain and the
migration test (``tests/ledger/test_migrations.py``) cover them. Entitlements an organisation
records through the web live in the ledger's own tables, keyed by the organisation's id
(``EntitlementRow.org_id``, applied by the session: ``entitle.ledger.models.for_org``). Imports only SQLAlchemy and the ledger models
(whose ``Base`` they extend: once this module is imported, ``Base.metadata`` holds every table,
which Alembic's autogenerate and ``tests/ledger/test_migrations.py`` need).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from entitle.ledger.models import NEVER_REUSED, Base, UtcDateTime

ROLES = ("viewer", "editor", "admin")
"""Roles per organisation, weakest first: each can do what the ones before it can."""


class Organisation(Base):
    __tablename__ = "web_orgs"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class User(Base):
    __tablename__ = "web_users"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class Membership(Base):
    __tablename__ = "web_memberships"
    __table_args__ = (UniqueConstraint("org_id", "user_id"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("web_orgs.id"), nullable=False, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(10), nullable=False)


class ApiToken(Base):
    """A personal API token: the user it acts as, and the SHA-256 of its secret."""

    __tablename__ = "web_tokens"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class StoredEstate(Base):
    """An uploaded estate: its files live in ``folder`` under the server's data folder."""

    __tablename__ = "web_estates"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("web_orgs.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    folder: Mapped[str] = mapped_column(String(300), nullable=False)
    files: Mapped[str] = mapped_column(Text, nullable=False)  # JSON list of stored file names
    uploaded_by: Mapped[str] = mapped_column(String(254), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)  # pending|ready|invalid
    problems: Mapped[str | None] = mapped_column(Text)  # JSON list of problem texts
    position: Mapped[str | None] = mapped_column(Text)  # the position's JSON, once computed


class Job(Base):
    """A background import: what it does, how far it got, and how it ended."""

    __tablename__ = "web_jobs"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("web_orgs.id"), nullable=False, index=True)
    estate_id: Mapped[int | None] = mapped_column(ForeignKey("web_estates.id"))
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False)  # queued|running|done|failed
    progress: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # percent
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class Invitation(Base):
    """An invitation to join an organisation, sent to an e-mail address: the SHA-256 of its
    link's secret, until when it holds, and when it was used (once)."""

    __tablename__ = "web_invitations"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("web_orgs.id"), nullable=False, index=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    role: Mapped[str] = mapped_column(String(10), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    invited_by: Mapped[str] = mapped_column(String(254), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PasswordReset(Base):
    """A password reset sent by e-mail: the SHA-256 of its link's secret, until when it holds,
    and when it was used (once)."""

    __tablename__ = "web_password_resets"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Attempt(Base):
    """One failed sign-in or one sign-up, counted by the limits on attempts (``entitle.web.
    limits``). Kept in the database so that every server process counts the same attempts;
    the key (``account:EMAIL``, ``address:IP``, ``signup:IP``) is stored only as its SHA-256,
    and ``at`` in milliseconds of the server's clock. Rows older than the window are deleted
    as new ones come in."""

    __tablename__ = "web_attempts"
    __table_args__ = (Index("ix_web_attempts_key_at", "key_hash", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
