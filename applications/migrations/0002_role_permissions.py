from django.db import migrations

from competitions.roles import sync_role_groups


def sync(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    """The role groups gain their permissions on the application models."""

    dependencies = [
        ("applications", "0001_initial"),
        ("competitions", "0005_drop_redundant_pool_check"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
