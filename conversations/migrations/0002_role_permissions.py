from django.db import migrations

from competitions.roles import sync_role_groups


def sync(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    """The role groups gain their permissions on messages and objections."""

    dependencies = [
        ("conversations", "0001_initial"),
        ("grants", "0002_role_permissions"),
        ("competitions", "0011_user_language_and_objection_period"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
