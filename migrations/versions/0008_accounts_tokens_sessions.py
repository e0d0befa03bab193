"""accounts, tokens and sessions

Sign-in for people and programs: local passwords (argon2id hashes) and SSO
subjects on the user; API tokens stored as a SHA-256 of their secret with
scopes, expiry and revocation; browser sessions as server-side rows (the
cookie holds a random id, the row its hash), so that logging out or disabling
a user ends them; and failed sign-ins counted per account and per address.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from bpm.store.types import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("bpm_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("oidc_subject", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("last_login_at", UtcDateTime(), nullable=True))
        batch_op.create_unique_constraint("uq_bpm_user_oidc_subject", ["oidc_subject"])
    op.create_table(
        "api_token",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("username", sa.String(length=100), sa.ForeignKey("bpm_user.username", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", JSON, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("last_used_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_api_token_username", "api_token", ["username"])
    op.create_table(
        "user_session",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("username", sa.String(length=100), sa.ForeignKey("bpm_user.username", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("id_token", sa.Text(), nullable=True),
    )
    op.create_index("ix_user_session_username", "user_session", ["username"])
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=200), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", UtcDateTime(), nullable=False),
        sa.Column("blocked_until", UtcDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    op.drop_index("ix_user_session_username", table_name="user_session")
    op.drop_table("user_session")
    op.drop_index("ix_api_token_username", table_name="api_token")
    op.drop_table("api_token")
    with op.batch_alter_table("bpm_user", schema=None) as batch_op:
        batch_op.drop_constraint("uq_bpm_user_oidc_subject", type_="unique")
        batch_op.drop_column("last_login_at")
        batch_op.drop_column("oidc_subject")
        batch_op.drop_column("password_hash")
