from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from competitions import roles
from competitions.models import ActivityCategory, Competition, Municipality

DEMO_PASSWORD = "demo"  # noqa: S105 - demo data only; the command refuses to run in production.

DEMO_USERS = [
    # username, first name, last name, role, municipality slug
    ("admin", "Anna", "Administratore", None, None),
    ("coordinator", "Kristīne", "Koordinatore", roles.COORDINATORS, None),
    ("reviewer1", "Rita", "Vērtētāja", roles.REVIEWERS, None),
    ("reviewer2", "Roberts", "Vērtētājs", roles.REVIEWERS, None),
    ("smiltene", "Ilze", "Bērziņa", roles.MUNICIPAL_STAFF, "smiltenes-novads"),
    ("valka", "Jānis", "Ozols", roles.MUNICIPAL_STAFF, "valkas-novads"),
    ("valmiera", "Līga", "Kalniņa", roles.MUNICIPAL_STAFF, "valmieras-pilseta"),
    ("gulbene", "Māris", "Liepiņš", roles.MUNICIPAL_STAFF, "gulbenes-novads"),
    ("cesis", "Dace", "Zariņa", roles.MUNICIPAL_STAFF, "cesu-novads"),
]


class Command(BaseCommand):
    help = "Load the demo: users and an open call. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load the demo even though DEBUG is off (never on a production database).",
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: the demo creates users with the password 'demo'. "
                "Use --force only on a database that is not production."
            )
        with transaction.atomic():
            users = self.load_users()
            self.load_open_call(users)
        self.stdout.write(self.style.SUCCESS("Demo loaded. Users (password 'demo'):"))
        for username, *_rest in DEMO_USERS:
            self.stdout.write(f"  {username}")

    def load_users(self):
        user_model = get_user_model()
        users = {}
        for username, first_name, last_name, role, municipality_slug in DEMO_USERS:
            user, _created = user_model.objects.update_or_create(
                username=username,
                defaults={
                    "first_name": first_name,
                    "last_name": last_name,
                    "email": f"{username}@demo.invalid",
                    "is_staff": role in (roles.COORDINATORS, roles.REVIEWERS)
                    or username == "admin",
                    "is_superuser": username == "admin",
                },
            )
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            if role:
                user.groups.set([Group.objects.get(name=role)])
            if municipality_slug:
                Municipality.objects.get(slug=municipality_slug).staff.add(user)
            users[username] = user
        return users

    def load_open_call(self, users):
        now = timezone.now()
        call, _created = Competition.objects.update_or_create(
            slug="remigration-open",
            defaults={
                "title_lv": "Remigrācijas sekmēšanas pakalpojumi pašvaldībās (atvērts demo konkurss)",
                "title_en": "Remigration promotion services in municipalities (open demo call)",
                "description_lv": ("Demonstrācijas konkurss, kurā var izmēģināt pieteikšanos."),
                "description_en": "A demonstration call in which the application path can be tried.",
                "opens_at": now - timedelta(days=7),
                "closes_at": now + timedelta(days=30),
                "pool_amount": Decimal("40000.00"),
                "max_award_amount": Decimal("10000.00"),
                "status": Competition.Status.PUBLISHED,
                "published_at": now - timedelta(days=7),
            },
        )
        call.eligible_municipalities.set(Municipality.objects.all())
        call.categories.set(ActivityCategory.objects.all())
        call.reviewers.set([users["reviewer1"], users["reviewer2"]])
        return call
