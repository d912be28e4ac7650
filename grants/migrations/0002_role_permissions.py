from django.db import migrations

from competitions.roles import sync_role_groups


def sync(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    """The role groups gain their permissions on the grant models."""

    dependencies = [
        ("grants", "0001_initial"),
        ("applications", "0005_declined_award"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
