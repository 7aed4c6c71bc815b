"""task.clinical: tasks whose title and details only clinicians read

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 20:05:00

Existing tasks about a patient that a clinician (or the assistant, outside the follow-up
sweep, whose titles carry record ids only) wrote are marked clinical.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("clinical", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(
        sa.text(
            "UPDATE task SET clinical = :yes WHERE patient_id IS NOT NULL"
            " AND (source_ref IS NULL OR source_ref NOT LIKE 'sweep:%')"
            " AND (created_by_id IS NULL OR created_by_id IN"
            " (SELECT id FROM practitioner WHERE discipline <> 'admin'))"
        ).bindparams(yes=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("clinical")
