"""Top up the load database (make load): accounts per role and enough open complaints.

Run by run.py after `manage.py seed_demo`, with the load server's environment. Safe to run
again: it creates only what the previous runs used up, through the services, as staff would.
"""

import os
import random
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import scenario  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.roles import Role  # noqa: E402
from complaints import services  # noqa: E402
from complaints.demo import CATEGORIES, PRODUCTS  # noqa: E402
from complaints.models import Category, Complaint, Product  # noqa: E402
from complaints.workflow import OPEN_STAGE_VALUES, Stage  # noqa: E402

NAMES = [
    "Amara Okoye",
    "Ben Carter",
    "Chloe Martin",
    "Dev Patel",
    "Erin Walsh",
    "Farid Haddad",
    "Greta Novak",
    "Hugo Silva",
    "Isla Brennan",
    "Jonas Berg",
]
TEXTS = [
    "My card payment was declined twice although the account had funds.",
    "The broadband engineer did not arrive for the appointment I took a day off for.",
    "I was charged a late fee on a payment I made three days before the due date.",
    "Nobody has answered my letter about the meter reading for a month.",
]
rng = random.Random(7)  # noqa: S311  (made-up test data)


def accounts():
    User = get_user_model()
    password = make_password(scenario.PASSWORD)  # one hash: PBKDF2 is slow on purpose
    wanted = [
        *((name, Role.CSR) for name in scenario.CSR_ACCOUNTS),
        *((name, Role.RESOLVER) for name in scenario.RESOLVER_ACCOUNTS),
        *((name, Role.MANAGER) for name in scenario.MANAGER_ACCOUNTS),
        (scenario.SEEDER_ACCOUNT, Role.MANAGER),
    ]
    users = {}
    for username, role in wanted:
        users[username], _ = User.objects.get_or_create(
            username=username,
            defaults={
                "role": role,
                "password": password,
                "first_name": username.split("-")[1].title(),
                "last_name": username.split("-")[-1],
                "email": f"{username}@example.com",
            },
        )
    return users


def new_complaint(seeder, lists, prefix, description):
    categories, products = lists
    now = timezone.now()
    received_at = now - timedelta(minutes=rng.randint(5, 600))
    return services.complaint_create(
        actor=seeder,
        received_at=received_at,
        data={
            "external_reference": f"{prefix}{uuid.uuid4().hex[:12]}",
            "customer_name": rng.choice(NAMES),
            "customer_email": "",  # no email: the load test sends none
            "customer_phone": f"+44 7700 9{rng.randint(0, 99999):05d}",
            "date_of_complaint": timezone.localdate(received_at),
            "description": description,
            "interaction_details": "Customer called the helpline.",
            "channel": "phone",
            "category": rng.choice(categories),
            "product": rng.choice(products),
            "complexity": "standard",
        },
    )


def top_up(queryset, wanted, make):
    missing = wanted - queryset.count()
    for _ in range(max(missing, 0)):
        with transaction.atomic():
            make()
    return max(missing, 0)


def main():
    lists = (
        list(Category.objects.filter(parent=None, name__in=CATEGORIES)),
        list(Product.objects.filter(parent=None, name__in=PRODUCTS)),
    )
    if not all(lists):
        sys.exit("Run `manage.py seed_demo` first: the demo categories are missing.")
    users = accounts()
    seeder = users[scenario.SEEDER_ACCOUNT]
    open_load = Complaint.objects.filter(stage__in=OPEN_STAGE_VALUES)
    created = 0

    for bucket in range(scenario.BUCKETS):
        prefix = f"LOAD-B{bucket:02d}-"
        word = scenario.bucket_word(bucket)
        created += top_up(
            open_load.filter(
                external_reference__startswith=prefix, assignee=None, stage=Stage.RECEIVED
            ),
            scenario.INTAKE_PER_BUCKET,
            lambda prefix=prefix, word=word: new_complaint(
                seeder, lists, prefix, f"{rng.choice(TEXTS)} (queue {word})"
            ),
        )

    def acknowledged(prefix):
        complaint = new_complaint(seeder, lists, prefix, rng.choice(TEXTS))
        services.complaint_acknowledge(complaint, actor=seeder, method="phone")
        return complaint

    def to_team():
        complaint = acknowledged("LOAD-T-")
        services.complaint_escalate(
            complaint, actor=seeder, level="team", reason="Needs an investigator."
        )

    created += top_up(
        open_load.filter(external_reference__startswith="LOAD-T-", assignee=None),
        scenario.TEAM_POOL,
        to_team,
    )

    def to_managers():
        complaint = acknowledged("LOAD-M-")
        services.complaint_escalate(
            complaint, actor=seeder, level="manager", reason="The customer asked for a manager."
        )

    created += top_up(
        open_load.filter(external_reference__startswith="LOAD-M-"),
        scenario.MANAGER_POOL,
        to_managers,
    )

    for username in scenario.RESOLVER_ACCOUNTS:
        resolver = users[username]

        def investigating(resolver=resolver, username=username):
            complaint = acknowledged(f"LOAD-R-{username}-")
            services.complaint_escalate(
                complaint, actor=seeder, level="team", reason="Needs an investigator."
            )
            services.complaint_assign(complaint, actor=seeder, assignee=resolver)
            services.complaint_transition(complaint, Stage.INVESTIGATING, actor=resolver)

        created += top_up(
            open_load.filter(
                external_reference__startswith=f"LOAD-R-{username}-", assignee=resolver
            ),
            scenario.PER_RESOLVER,
            investigating,
        )

    for username in scenario.CSR_ACCOUNTS:
        csr = users[username]

        def assigned(csr=csr, username=username):
            complaint = acknowledged(f"LOAD-C-{username}-")
            services.complaint_assign(complaint, actor=seeder, assignee=csr)

        created += top_up(
            open_load.filter(external_reference__startswith=f"LOAD-C-{username}-", assignee=csr),
            scenario.PER_CSR,
            assigned,
        )

    print(
        f"Load data ready: {len(users)} load accounts, {created} complaints created, "
        f"{open_load.count():,} open complaints in all."
    )


if __name__ == "__main__":
    main()
