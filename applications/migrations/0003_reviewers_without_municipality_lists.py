from django.db import migrations

from competitions.roles import sync_role_groups


def sync(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    """Reviewers no longer read the municipalities' staff lists: they do not need them."""

    dependencies = [("applications", "0002_role_permissions")]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
