"""Demo users, managed lists and a few complaints at every stage, for a first look.

Running it again changes nothing: users, lists and demo complaints are found by their
usernames, names and external references before anything is created.
"""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import ExtractYear
from django.utils import timezone

from accounts.roles import Role
from complaints import services
from complaints.imports import import_cfpb
from complaints.models import Category, Complaint, Product, RootCause
from reports.models import Period, TrendReport
from reports.services import report_build

USERS = [
    ("csr", "Casey", "Reed", Role.CSR),
    ("csr2", "Sam", "Okafor", Role.CSR),
    ("resolver", "Rita", "Vance", Role.RESOLVER),
    ("manager", "Morgan", "Hale", Role.MANAGER),
]
CATEGORIES = [
    "Billing error",
    "Fees and charges",
    "Service outage",
    "Staff conduct",
    "Delay in service",
    "Account access",
    "Product fault",
    "Communication",
]
PRODUCTS = [
    "Current account",
    "Credit card",
    "Mortgage",
    "Personal loan",
    "Broadband",
    "Energy supply",
]
ROOT_CAUSES = [
    "Process not followed",
    "System error",
    "Unclear communication",
    "Third-party failure",
    "Policy gap",
    "Training need",
    "No fault found",
]


class Command(BaseCommand):
    help = "Create the demo users, managed lists and demo complaints (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--cfpb",
            default=settings.DEMO_CFPB_PATH,
            help="A CFPB complaints CSV to import as real demo data ('' to skip).",
        )

    def handle(self, *args, cfpb, **options):
        password = settings.DEMO_PASSWORD
        users = self.seed_users(password)
        for name in CATEGORIES:
            Category.objects.get_or_create(name=name, parent=None)
        for name in PRODUCTS:
            Product.objects.get_or_create(name=name, parent=None)
        for name in ROOT_CAUSES:
            RootCause.objects.get_or_create(name=name)
        created = self.seed_complaints(users)
        self.seed_cfpb(cfpb)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: users csr, csr2, resolver, manager, admin (password: {password}); "
                f"{created} demo complaints created."
            )
        )

    def seed_cfpb(self, path):
        if not path:
            return
        if not Path(path).exists():
            self.stdout.write(f"No CFPB file at {path}; the demo runs without real data.")
            return
        if Complaint.objects.filter(external_reference__startswith="CFPB-").exists():
            return
        self.stdout.write(f"Importing real complaints from {path} (a minute or two, once)...")
        report = import_cfpb(path)
        self.stdout.write(report.summary())
        self.seed_reports()

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
        for username, first, last, role in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "role": role,
                    "email": f"{username}@example.com",
                },
            )
            if created:
                user.set_password(password)
                user.save()
            users[username] = user
        admin, created = User.objects.get_or_create(
            username="admin",
            defaults={
                "is_superuser": True,
                "first_name": "Ada",
                "last_name": "Admin",
                "email": "admin@example.com",
            },
        )
        if created:
            admin.set_password(password)
            admin.save()
        return users

    @transaction.atomic
    def seed_complaints(self, users):
        now = timezone.now()
        csr, csr2, resolver, manager = (users[k] for k in ("csr", "csr2", "resolver", "manager"))
        category = {c.name: c for c in Category.objects.all()}
        product = {p.name: p for p in Product.objects.all()}
        root = {r.name: r for r in RootCause.objects.all()}
        demos = [
            (
                "DEMO-001",
                "Priya Shah",
                "priya.shah@example.com",
                "",
                "email",
                "Billing error",
                "Credit card",
                "I was charged twice for the same purchase on 3 November and nobody "
                "has explained why.",
                2,
                "received",
            ),
            (
                "DEMO-002",
                "Tom Becker",
                "",
                "+44 7700 900123",
                "phone",
                "Service outage",
                "Broadband",
                "My broadband has dropped every evening for a week and I work from home.",
                20,
                "received",
            ),
            (
                "DEMO-003",
                "Grace Liu",
                "grace.liu@example.com",
                "",
                "web",
                "Fees and charges",
                "Current account",
                "An overdraft fee was applied although I had arranged an overdraft in advance.",
                30,
                "acknowledged",
            ),
            (
                "DEMO-004",
                "Jamal Idris",
                "jamal.idris@example.com",
                "+44 7700 900456",
                "letter",
                "Delay in service",
                "Mortgage",
                "My remortgage application has been waiting for six weeks without any update.",
                72,
                "investigating",
            ),
            (
                "DEMO-005",
                "Elena Rossi",
                "elena.rossi@example.com",
                "",
                "email",
                "Product fault",
                "Energy supply",
                "The smart meter you installed shows readings three times higher than my usage.",
                120,
                "resolved",
            ),
            (
                "DEMO-006",
                "Owen Price",
                "owen.price@example.com",
                "",
                "in_person",
                "Staff conduct",
                "Personal loan",
                "The adviser at the branch was dismissive and refused to explain the loan terms.",
                300,
                "follow_up",
            ),
        ]
        created = 0
        for ref, name, email, phone, channel, cat, prod, text, hours_ago, target in demos:
            if Complaint.objects.filter(external_reference=ref).exists():
                continue
            logger = csr if created % 2 == 0 else csr2
            complaint = services.complaint_create(
                actor=logger,
                received_at=now - timedelta(hours=hours_ago),
                data={
                    "external_reference": ref,
                    "customer_name": name,
                    "customer_email": email,
                    "customer_phone": phone,
                    "date_of_complaint": (now - timedelta(hours=hours_ago)).date(),
                    "description": text,
                    "interaction_details": f"Customer contacted us by {channel.replace('_', ' ')}.",
                    "channel": channel,
                    "category": category[cat],
                    "product": product[prod],
                    "complexity": "standard",
                },
            )
            created += 1
            self.advance(complaint, target, logger, resolver, manager, root, hours_ago, now)
        return created

    def advance(self, complaint, target, logger, resolver, manager, root, hours_ago, now):
        order = ["received", "acknowledged", "investigating", "resolved", "follow_up"]
        if order.index(target) >= 1:
            services.complaint_assign(complaint, actor=logger, assignee=logger)
            services.complaint_acknowledge(
                complaint,
                actor=logger,
                method="email" if complaint.customer_email else "phone",
                at=now - timedelta(hours=hours_ago - 3),
            )
        if order.index(target) >= 2:
            services.complaint_escalate(
                complaint, actor=logger, level="team", reason="Needs an investigator."
            )
            services.complaint_assign(complaint, actor=resolver, assignee=resolver)
            services.complaint_transition(complaint, "investigating", actor=resolver)
            services.note_add(
                complaint,
                actor=resolver,
                text="Checked the account history; the issue is confirmed.",
            )
        if order.index(target) >= 3:
            services.complaint_update(
                complaint, actor=resolver, changes={"root_cause": root["System error"]}
            )
            services.resolution_propose(
                complaint,
                actor=resolver,
                type="refund",
                amount=Decimal("45.00"),
                description="We will refund the £45 charged in error and add a note to your "
                "account so it cannot happen again.",
            )
        if order.index(target) >= 4:
            services.resolution_record_customer_response(complaint, actor=resolver, accepted=True)
            services.resolution_implement(
                complaint, actor=resolver, notes="Refund of £45 issued to the customer's account."
            )
