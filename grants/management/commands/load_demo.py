"""Load the demo: the real 2019 call of the source case, complete, and an open call to try.

The 2019 call is played through the services as it happened (applications submitted before
the deadline, reviews, the allocation, the decision, the letters; then each plan agreed to its
award and each agreement signed: ``grants.demo``), with the clock moved to those days, so that
every date, reference number and ledger row is what the portal itself would have written.
Safe to run again: what exists is left as it is.

The command lives in ``grants``, the top of the apps' pipeline, because it plays every stage;
``applications`` holds the data of its part (``applications.demo``) and never imports grants.
"""

from datetime import timedelta
from decimal import Decimal
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.module_loading import module_has_submodule

from applications import demo, services
from applications.models import Application
from competitions import roles
from competitions.models import ActivityCategory, Competition, Municipality
from grants import demo as grants_demo

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


def _time_machine():
    """The library that moves the clock to the days of 2019."""
    try:
        import time_machine
    except ImportError as error:  # a production install without the development extras
        raise CommandError(
            "The demo needs the development extras: pip install -e '.[dev]'"
        ) from error
    return time_machine


class Command(BaseCommand):
    help = "Load the demo: the 2019 remigration call with its decision, an open call, users."

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
        users = self.load_users()
        # The story of 2019 sends no mail to the demo's made-up addresses.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            if Competition.objects.filter(slug=demo.CALL_SLUG).exists():
                self.stdout.write(f"The call {demo.CALL_SLUG} is already there; left as it is.")
            else:
                self.play_source_case(users)
            self.play_grants(users)
        self.load_open_call(users)
        self.play_on_top(users)
        self.stdout.write(
            self.style.SUCCESS("Demo loaded. Log in with these users, password 'demo':")
        )
        for username, first_name, last_name, role, municipality in DEMO_USERS:
            what = role or "superuser"
            self.stdout.write(
                f"  {username:<12} {first_name} {last_name}, {what}{f', {municipality}' if municipality else ''}"
            )

    def play_on_top(self, users: dict) -> None:
        """The stages of the apps above this one (the threads of ``conversations``): each app's
        ``demo.play_on_top``, found by name, as ``send_reminders`` finds reminders."""
        time_machine = _time_machine()
        for config in apps.get_app_configs():
            if not module_has_submodule(config.module, "demo"):
                continue
            module = import_module(f"{config.name}.demo")
            if hasattr(module, "play_on_top"):
                with transaction.atomic():
                    said = module.play_on_top(
                        users=users, travel=lambda moment: time_machine.travel(moment, tick=False)
                    )
                self.stdout.write(said)

    @transaction.atomic
    def load_users(self) -> dict:
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
                    "is_active": True,
                },
            )
            if _created:
                # Only a new user's: setting it again would end the demo users' sessions at
                # every `make run` and undo a password changed to try that page.
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            user.groups.set([Group.objects.get(name=role)] if role else [])
            if municipality_slug:
                # Each demo staff member is also the one their municipality names as
                # authorised to sign its agreements.
                municipality = Municipality.objects.get(slug=municipality_slug)
                municipality.staff.add(user)
                municipality.signatories.add(user)
            users[username] = user
        return users

    def play_source_case(self, users: dict) -> None:
        """The 2019 call, step by step on the days it happened, through the services."""
        time_machine = _time_machine()

        with transaction.atomic():
            with time_machine.travel(demo.CALL["opens_at"], tick=False):
                call = self.create_call(users)
            for entry in demo.APPLICATIONS:
                with time_machine.travel(entry.submitted_at - timedelta(days=3), tick=False):
                    user = users[entry.username]
                    application = services.application_start(
                        competition=call,
                        municipality=Municipality.objects.get(slug=entry.municipality),
                        by=user,
                    )
                    services.application_update_draft(
                        application=application,
                        by=user,
                        details=services.ApplicationDetails(
                            contact_name=entry.contact_name,
                            contact_email=user.email,
                            contact_phone="+371 64 000 000",
                            goals=entry.goals,
                            target_groups=entry.target_groups,
                            summary=entry.summary,
                        ),
                        activities=[
                            services.ActivityData(
                                category_id=ActivityCategory.objects.get(code=activity.category).pk,
                                title=activity.title,
                                description=activity.description,
                                starts_on=activity.starts_on,
                                ends_on=activity.ends_on,
                                target_group=activity.target_group,
                                expected_result=activity.expected_result,
                                cost=activity.cost,
                            )
                            for activity in entry.activities
                        ],
                    )
                with time_machine.travel(entry.submitted_at, tick=False):
                    services.application_submit(application=application, by=user)

            criteria = list(call.criteria.order_by("order"))
            with time_machine.travel(demo.REVIEWED_AT, tick=False):
                for entry in demo.APPLICATIONS:
                    application = Application.objects.get(
                        competition=call, municipality__slug=entry.municipality
                    )
                    for reviewer, points in zip(
                        (users["reviewer1"], users["reviewer2"]), entry.points, strict=True
                    ):
                        services.review_record(
                            application=application,
                            reviewer=reviewer,
                            scores={c.pk: p for c, p in zip(criteria, points, strict=True)},
                            comment="Ilustratīvs vērtējums.",
                        )
            with time_machine.travel(demo.ALLOCATED_AT, tick=False):
                services.allocation_apply_proposal(competition=call, by=users["coordinator"])
            awarded = dict(
                Application.objects.filter(competition=call).values_list(
                    "municipality__slug", "awarded_amount"
                )
            )
            if awarded != demo.AWARDS:
                raise CommandError(f"The ranking rule did not reproduce the source case: {awarded}")
            with time_machine.travel(demo.DECIDED_AT, tick=False):
                services.competition_decide(competition=call, by=users["coordinator"])
            with time_machine.travel(demo.LETTERS_AT, tick=False):
                letters = services.competition_issue_letters(
                    competition=call, by=users["coordinator"], language="lv"
                )
        total = sum(awarded.values(), Decimal("0"))
        self.stdout.write(
            f"The call {demo.CALL_SLUG} is decided: {len(awarded)} awards, {total} EUR in all, "
            f"{len(letters)} award letters issued."
        )

    def play_grants(self, users: dict) -> None:
        """After the decision: the plans agreed and the agreements signed, in 2019; then the
        payments, the reports and the closes of 2020."""
        time_machine = _time_machine()
        with transaction.atomic():
            signed = grants_demo.play(
                users=users, travel=lambda moment: time_machine.travel(moment, tick=False)
            )
        if signed:
            self.stdout.write(
                f"{len(signed)} agreements issued, accepted and countersigned: "
                + ", ".join(agreement.number for agreement in signed)
            )
        with transaction.atomic():
            played = grants_demo.play_settlement(
                users=users, travel=lambda moment: time_machine.travel(moment, tick=False)
            )
        if played:
            self.stdout.write(
                f"{len(played)} grants paid and reported on through 2020 (illustrative figures)."
            )

    def create_call(self, users: dict) -> Competition:
        call = Competition.objects.create(
            slug=demo.CALL_SLUG,
            status=Competition.Status.PUBLISHED,
            published_at=timezone.now(),
            **demo.CALL,
        )
        self.open_to_everyone(call, users)
        return call

    def open_to_everyone(self, call: Competition, users: dict) -> None:
        """Every municipality, every category, the demo's criteria and both reviewers."""
        call.eligible_municipalities.set(Municipality.objects.all())
        call.categories.set(ActivityCategory.objects.all())
        call.reviewers.set([users["reviewer1"], users["reviewer2"]])
        for criterion in demo.criteria(call):
            criterion.save()

    @transaction.atomic
    def load_open_call(self, users: dict) -> Competition:
        """A call open now, so that the application path can be tried."""
        now = timezone.now()
        call = Competition.objects.filter(slug=demo.OPEN_CALL_SLUG).first()
        if call is not None:
            if call.closes_at <= now:
                # An old demo database: keep the call open for trying.
                Competition.objects.filter(pk=call.pk).update(closes_at=now + timedelta(days=30))
            return call
        call = Competition.objects.create(
            slug=demo.OPEN_CALL_SLUG,
            title_lv="Remigrācijas sekmēšanas pakalpojumi pašvaldībās (izmēģinājuma konkurss)",
            title_en="Remigration promotion services in municipalities (a call to try)",
            description_lv=(
                "Atvērts demonstrācijas konkurss ar tiem pašiem noteikumiem kā 2019. gadā: "
                "šeit var izmēģināt pieteikuma aizpildīšanu un iesniegšanu."
            ),
            description_en=(
                "An open demo call with the rules of 2019, in which filling in and submitting "
                "an application can be tried."
            ),
            opens_at=now - timedelta(days=7),
            closes_at=now + timedelta(days=30),
            results_expected_on=(now + timedelta(days=60)).date(),
            pool_amount=Decimal("40000.00"),
            max_award_amount=Decimal("10000.00"),
            signatory_name=demo.CALL["signatory_name"],
            signatory_position=demo.CALL["signatory_position"],
            implementation_ends_on=(now + timedelta(days=365)).date(),
            report_due_on=(now + timedelta(days=395)).date(),
            status=Competition.Status.PUBLISHED,
            published_at=now - timedelta(days=7),
        )
        self.open_to_everyone(call, users)
        return call
