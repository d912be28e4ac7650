from django.db import migrations

# The ledger is append-only in the database too, not only in the services and the admin: a row
# is never changed, and never deleted while its grant exists (a mistake is reversed by a new
# row). PostgreSQL refuses both; the test database is emptied with TRUNCATE, which row triggers
# do not see. On SQLite (the embedded default, emptied row by row) only a change is refused.
POSTGRES = [
    """CREATE FUNCTION grants_payment_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'payment_append_only: a payment is never changed or deleted; reverse it'
            USING ERRCODE = 'integrity_constraint_violation';
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER payment_append_only BEFORE UPDATE OR DELETE ON grants_payment
    FOR EACH ROW EXECUTE FUNCTION grants_payment_append_only()""",
]
POSTGRES_UNDO = [
    "DROP TRIGGER payment_append_only ON grants_payment",
    "DROP FUNCTION grants_payment_append_only()",
]
SQLITE = [
    """CREATE TRIGGER payment_append_only BEFORE UPDATE ON grants_payment
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: payment_append_only'); END"""
]
SQLITE_UNDO = ["DROP TRIGGER payment_append_only"]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRES, "sqlite": SQLITE}.get(vendor, []):
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRES_UNDO, "sqlite": SQLITE_UNDO}.get(vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("grants", "0004_payment_reversal_same_grant")]

    operations = [migrations.RunPython(forwards, backwards)]
