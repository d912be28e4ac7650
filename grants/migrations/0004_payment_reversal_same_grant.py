from django.db import migrations

from competitions.roles import sync_role_groups

POSTGRES = [
    # (reverses_id, grant_id) must name an existing (id, grant_id): a reversal cancels a row of
    # its own grant. MATCH SIMPLE skips the check where reverses_id is NULL (an ordinary row).
    "ALTER TABLE grants_payment ADD CONSTRAINT payment_id_grant_unique UNIQUE (id, grant_id)",
    "ALTER TABLE grants_payment ADD CONSTRAINT payment_reversal_of_same_grant "
    "FOREIGN KEY (reverses_id, grant_id) REFERENCES grants_payment (id, grant_id) "
    "NOT DEFERRABLE",
]
POSTGRES_UNDO = [
    "ALTER TABLE grants_payment DROP CONSTRAINT payment_reversal_of_same_grant",
    "ALTER TABLE grants_payment DROP CONSTRAINT payment_id_grant_unique",
]
# SQLite cannot add a constraint to a table it has made: triggers hold the same rule there.
SQLITE = [
    f"""CREATE TRIGGER payment_reversal_of_same_grant_{event}
    BEFORE {event} ON grants_payment
    WHEN NEW.reverses_id IS NOT NULL AND NEW.grant_id <> (
        SELECT grant_id FROM grants_payment WHERE id = NEW.reverses_id)
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: payment_reversal_of_same_grant'); END"""
    for event in ("INSERT", "UPDATE")
]
SQLITE_UNDO = [
    f"DROP TRIGGER payment_reversal_of_same_grant_{event}" for event in ("INSERT", "UPDATE")
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRES, "sqlite": SQLITE}.get(vendor, []):
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRES_UNDO, "sqlite": SQLITE_UNDO}.get(vendor, []):
        schema_editor.execute(statement)


def sync(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    """A reversal points to a row of the same grant; the role groups gain their permissions
    on the payments and reports."""

    dependencies = [("grants", "0003_payments_reports")]

    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.RunPython(sync, migrations.RunPython.noop),
    ]
