"""The managed lists, and with --demo the demo: its users, complaints at every stage and in
every queue, cases of the last half-year under each regulatory profile (told at their own
moments, so each return the Returns page offers first has figures), the real CFPB sample and
trend reports, for a first look.

Running it again changes nothing: users, lists and demo complaints are found by their
usernames, names and external references before anything is created, and the clock and report
jobs run only on a run that created demo complaints. It lives in reports/ because it builds
trend reports too, and complaints/ knows nothing of reports/.
"""

import contextlib
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import ExtractYear
from django.utils import timezone

from complaints import demo, selectors, services
from complaints.imports import import_cfpb
from complaints.models import (
    Category,
    Complaint,
    EscalationLevel,
    Product,
    RegulatoryProfile,
    ResponseEnclosure,
    ResponseTemplate,
    ReturnGrouping,
    RootCause,
)
from complaints.responses import ResponseType
from complaints.responses import catalogue as response_catalogue
from complaints.workflow import Stage
from reports import returns
from reports.models import Period, TrendReport
from reports.services import report_build

# The jobs beat would run within minutes of `make run`: run once here, the demo opens with its
# acknowledgment breaches, missed targets and the latest reports already in place.
JOBS = ("enforce_clocks", "build_trend_reports")


@contextlib.contextmanager
def happening_at(moment):
    """Tell a step of a past case as it happened then: the services stamp what they write
    (stages, clocks, history, resolutions) with timezone.now(), so that is the moment they
    read while the step runs. None: now."""
    if moment is None:
        yield
        return
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def received_in_last_half_year(case):
    """Ten in the morning on the day of the last half-year that has ended the case names."""
    first, _ = returns.last_half_year(timezone.localdate())
    day = first + timedelta(days=case.last_half_year[0])
    return timezone.make_aware(datetime.combine(day, time(10)))


class Command(BaseCommand):
    help = (
        "Create the managed lists; with --demo also the demo users (known password), demo "
        "complaints and real CFPB data (safe to run again)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Also create the demo users, with the known password DEMO_PASSWORD, and the "
            "demo data. Never on a system that holds real complaints.",
        )
        parser.add_argument(
            "--cfpb",
            default=settings.DEMO_CFPB_PATH,
            help="With --demo: a CFPB complaints CSV to import as real demo data ('' to skip).",
        )

    def handle(self, *args, cfpb, **options):
        self.seed_lists()
        self.seed_return_groupings()
        if not options["demo"]:
            self.stdout.write(
                "Managed lists ready. No user was created: the demo users share a known "
                "password, so they are made only with `manage.py seed_demo --demo` (as `make "
                "run` does), never on a system that holds real complaints. Create real "
                "accounts with `manage.py createsuperuser` and the admin site."
            )
            return
        password = settings.DEMO_PASSWORD
        users = self.seed_users(password)
        self.seed_profiles()
        self.seed_enclosures()
        created = self.seed_complaints(users)
        imported = self.seed_cfpb(cfpb)
        if created or imported:
            for name in JOBS:
                call_command("run_job", name, stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo ready: users csr, csr2, resolver, manager, manager2, admin "
                f"(password: {password}); "
                f"{created} demo complaints created."
            )
        )

    def seed_lists(self):
        for name in demo.CATEGORIES:
            Category.objects.get_or_create(name=name, parent=None)
        for name in demo.PRODUCTS:
            Product.objects.get_or_create(name=name, parent=None)
        for name in demo.ROOT_CAUSES:
            RootCause.objects.get_or_create(name=name)
        for name, language, subject, body in demo.RESPONSE_TEMPLATES:
            ResponseTemplate.objects.get_or_create(
                name=name, defaults={"language": language, "subject": subject, "body": body}
            )

    def seed_return_groupings(self):
        sources = {"product": Product, "category": Category, "root_cause": RootCause}
        for scheme, dimension, kind, name, code, label in demo.RETURN_GROUPINGS:
            source = sources[kind].objects.filter(name=name).order_by("parent").first()
            if source is not None:
                ReturnGrouping.objects.get_or_create(
                    scheme=scheme,
                    dimension=dimension,
                    **{kind: source},
                    defaults={"code": code, "label": label},
                )

    def seed_profiles(self):
        """The demo firm answers to the FCA, ASIC and the CFPB: their profiles switched on."""
        for code, product_names in demo.PROFILES.items():
            profile = RegulatoryProfile.objects.filter(code=code).first()
            if profile is None:
                continue
            profile.active = True
            profile.save(update_fields=["active"])
            profile.products.add(*Product.objects.filter(name__in=product_names, parent=None))

    def seed_enclosures(self):
        """Stand-ins for the documents the regulators' responses enclose (the ombudsman's
        leaflet), so the demo can send them; a real firm uploads the real ones."""
        for code, documents in response_catalogue.ENCLOSURES.items():
            profile = RegulatoryProfile.objects.filter(code=code).first()
            for enclosure_code, name in documents:
                if profile is None or profile.enclosures.filter(code=enclosure_code).exists():
                    continue
                lines = [line.format(name=name) for line in demo.STAND_IN_LINES]
                services.response_enclosure_upload(
                    ResponseEnclosure(profile=profile, code=enclosure_code, name=name),
                    ContentFile(demo.stand_in_pdf(lines), name=f"{enclosure_code}-stand-in.pdf"),
                    actor=None,
                )

    def seed_cfpb(self, path):
        if not path:
            return False
        if Complaint.objects.filter(external_reference__startswith="CFPB-").exists():
            return False
        if not Path(path).exists():
            self.stdout.write(f"No CFPB file at {path}; the demo runs without real data.")
            return False
        self.stdout.write(f"Importing real complaints from {path} (a minute or two, once)...")
        report = import_cfpb(path)
        self.stdout.write(report.summary())
        self.seed_reports()
        return True

    def seed_reports(self):
        """Monthly trend reports over the busiest year of the real data, so a first look at
        Reports shows real trends (beat builds the months to come by itself)."""
        busiest = (
            Complaint.objects.filter(external_reference__startswith="CFPB-")
            .annotate(year=ExtractYear("received_at"))
            .values("year")
            .annotate(n=Count("id"))
            .order_by("-n")
            .first()
        )
        if not busiest:
            return
        for month in range(1, 13):
            start = date(busiest["year"], month, 1)
            if not TrendReport.objects.filter(period=Period.MONTHLY, start=start).exists():
                report_build(Period.MONTHLY, start)
        self.stdout.write(f"Monthly trend reports built for {busiest['year']}.")

    def seed_users(self, password):
        User = get_user_model()
        users = {}
        superuser = (*demo.SUPERUSER, None)
        for username, first, last, role in [*demo.USERS, superuser]:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.com",
                    **({"role": role} if role else {"is_superuser": True}),
                },
            )
            if created:
                user.set_password(password)
                user.save()
            users[username] = user
        return users

    @transaction.atomic
    def seed_complaints(self, users):
        now = timezone.now()
        lists = {
            "category": {c.name: c for c in Category.objects.filter(parent=None)},
            "product": {p.name: p for p in Product.objects.filter(parent=None)},
            "root_cause": {r.name: r for r in RootCause.objects.all()},
        }
        created = 0
        for number, case in enumerate(demo.COMPLAINTS):
            if Complaint.objects.filter(external_reference=case.reference).exists():
                continue
            past = bool(case.last_half_year)
            if past:
                received_at = received_in_last_half_year(case)
            else:
                received_at = now - timedelta(hours=case.hours_ago)
            logger = users["csr"] if number % 2 == 0 else users["csr2"]
            with happening_at(received_at if past else None):
                complaint = services.complaint_create(
                    actor=logger,
                    received_at=received_at,
                    data={
                        "external_reference": case.reference,
                        "customer_name": case.customer,
                        "customer_email": case.email,
                        "customer_phone": case.phone,
                        "date_of_complaint": timezone.localdate(received_at),
                        "description": case.description,
                        "interaction_details": "Customer contacted us by "
                        f"{case.channel.replace('_', ' ')}.",
                        "channel": case.channel,
                        "category": lists["category"][case.category],
                        "product": lists["product"][case.product],
                        "complexity": "standard",
                        "customer_country": case.country,
                    },
                    flags=dict(case.flags),
                )
            created += 1
            Story(complaint, case, logger, users, lists["root_cause"], received_at).tell()
        return created


class Story:
    """Takes one demo complaint through the services, as its people would, as far as its
    story goes."""

    # Each story's steps, in order; every later story repeats the steps before it.
    RESOLUTION_PATH = [
        "acknowledge",
        "escalate_to_team",
        "investigate",
        "propose",
        "answer",
        "accept_and_implement",
        "give_feedback",
        "document",
        "review",
    ]
    ENDS = {
        "received": 0,
        "acknowledged": 1,
        "escalated_to_team": 2,
        "investigating": 3,
        "awaiting_approval": 4,
        "resolved": 5,
        "follow_up": 6,
        "documented": 8,
        "reviewed": 9,
    }
    EXITS = {"withdrawn": "withdraw", "duplicate": "merge", "not_a_complaint": "dismiss"}
    # When each step of a past case happened: so long after its receipt, or after its answer
    # (the resolution proposed, `last_half_year`'s days after receipt).
    PAST_STEPS = {
        "acknowledge": ("received", timedelta(hours=3)),
        "escalate_to_team": ("received", timedelta(hours=4)),
        "investigate": ("received", timedelta(hours=5)),
        "propose": ("answered", timedelta(0)),
        "answer": ("answered", timedelta(minutes=30)),
        "accept_and_implement": ("answered", timedelta(days=1)),
        "give_feedback": ("answered", timedelta(days=2)),
        "document": ("answered", timedelta(days=4)),
        "review": ("answered", timedelta(days=6)),
    }

    def __init__(self, complaint, case, logger, users, root_causes, received_at):
        self.complaint, self.case, self.logger = complaint, case, logger
        self.resolver, self.manager = users["resolver"], users["manager"]
        self.root_causes, self.received_at = root_causes, received_at

    def tell(self):
        if self.case.story == "escalated_to_managers":
            steps = ["acknowledge", "escalate_to_managers"]
        elif self.case.story in self.EXITS:
            steps = ["acknowledge", self.EXITS[self.case.story]]
        else:
            steps = self.RESOLUTION_PATH[: self.ENDS[self.case.story]]
        for step in steps:
            with happening_at(self.moment_of(step)):
                getattr(self, step)()

    def moment_of(self, step):
        if not self.case.last_half_year:
            return None
        after, delay = self.PAST_STEPS[step]
        if after == "answered":
            return self.received_at + timedelta(days=self.case.last_half_year[1]) + delay
        return self.received_at + delay

    def acknowledge(self):
        services.complaint_assign(self.complaint, actor=self.logger, assignee=self.logger)
        services.complaint_acknowledge(
            self.complaint,
            actor=self.logger,
            method="email" if self.case.email else "phone",
            at=self.received_at + timedelta(hours=3),
        )

    def escalate_to_team(self):
        services.complaint_escalate(
            self.complaint,
            actor=self.logger,
            level=EscalationLevel.TEAM,
            reason=self.case.escalation_reason,
        )

    def investigate(self):
        services.complaint_assign(self.complaint, actor=self.resolver, assignee=self.resolver)
        services.complaint_transition(self.complaint, "investigating", actor=self.resolver)
        services.note_add(
            self.complaint,
            actor=self.resolver,
            text="Checked the account history; the issue is confirmed.",
        )

    def escalate_to_managers(self):
        """The CSR investigates, finds it beyond them and asks the managers; a manager hands it
        to the resolution team and asks them for a check."""
        services.complaint_transition(self.complaint, "investigating", actor=self.logger)
        services.note_add(
            self.complaint,
            actor=self.logger,
            text="Spoke to the customer: the letters kept coming after the two certificates.",
        )
        services.complaint_escalate(
            self.complaint,
            actor=self.logger,
            level=EscalationLevel.MANAGER,
            reason=self.case.escalation_reason,
        )
        services.complaint_assign(self.complaint, actor=self.manager, assignee=self.resolver)
        services.consultation_request(
            self.complaint,
            actor=self.manager,
            department="Resolution team",
            consultee=self.resolver,
            question="Which system still sends the arrears letters, and can it be stopped today?",
        )

    def propose(self):
        resolution = self.case.resolution
        services.complaint_update(
            self.complaint,
            actor=self.resolver,
            changes={"root_cause": self.root_causes[resolution.root_cause]},
        )
        services.resolution_propose(
            self.complaint,
            actor=self.resolver,
            type=resolution.type,
            amount=resolution.amount,
            description=resolution.description,
        )

    def answer(self):
        """A case under a regulator's profile is answered with its final response (the CFPB's
        company response), checked and sent through the service: the proposal alone meets
        no regulator's response clock (docs/responses.md)."""
        complaint = self.complaint
        complaint.refresh_from_db()
        if complaint.profile.code == "house" or complaint.stage != Stage.RESOLVED:
            return
        services.complaint_outcome_record(
            complaint, actor=self.resolver, outcome=self.case.resolution.outcome
        )
        offered = selectors.response_types_offered(complaint.profile)
        response_type = (
            ResponseType.FINAL_RESPONSE
            if ResponseType.FINAL_RESPONSE in offered
            else ResponseType.CFPB_COMPANY_RESPONSE
        )
        (name,) = [
            row[3]
            for row in response_catalogue.templates()
            if row[:3] == (complaint.profile.code, response_type, complaint.preferred_language)
        ]
        template = ResponseTemplate.objects.get(name=name)
        subject, text = selectors.reply_draft(complaint, template, self.resolver)
        services.reply_send(
            complaint,
            actor=self.resolver,
            subject=subject,
            text=text,
            token=uuid.uuid4().hex,
            template=template,
            response_type=response_type,
        )

    def accept_and_implement(self):
        services.resolution_record_customer_response(
            self.complaint, actor=self.resolver, accepted=True
        )
        services.resolution_implement(
            self.complaint, actor=self.resolver, notes=self.case.resolution.implementation
        )

    def give_feedback(self):
        # Through the customer's own link.
        services.feedback_record(
            self.complaint,
            actor=None,
            score=4,
            resolved=True,
            comment="Sorted in the end, thank you.",
        )

    def document(self):
        services.complaint_outcome_record(
            self.complaint, actor=self.resolver, outcome=self.case.resolution.outcome
        )
        services.complaint_transition(self.complaint, "documented", actor=self.resolver)

    def withdraw(self):
        services.complaint_withdraw(
            self.complaint,
            actor=self.logger,
            customer_words=self.case.exit_text,
            withdrawn_on=timezone.localdate(),
        )

    def merge(self):
        survivor = Complaint.objects.get(external_reference=self.case.exit_text)
        services.complaint_merge(
            self.complaint,
            actor=self.manager,
            into_reference=survivor.reference,
            reason="The customer wrote again about the same supply cut.",
        )

    def dismiss(self):
        services.complaint_not_a_complaint(
            self.complaint, actor=self.logger, reason=self.case.exit_text
        )

    def review(self):
        services.review_sign_off(
            self.complaint,
            actor=self.manager,
            quality_notes="Handled within target; the customer was kept informed.",
            lessons="The rule behind the charge needs a check of its own.",
        )
