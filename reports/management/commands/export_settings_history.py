from django.core.management.base import BaseCommand

from accounts.history import write_history_csv
from accounts.models import User
from complaints.models import Category, Holiday, Product, RetentionPolicy, RootCause
from reports.models import ImprovementAction, ProcedureReview

SETTINGS = (
    User,
    Product,
    Category,
    RootCause,
    Holiday,
    RetentionPolicy,
    ProcedureReview,
    ImprovementAction,
)


class Command(BaseCommand):
    help = (
        "Write the history of every setting (users and roles, managed lists, holidays, "
        "retention policies, procedure reviews, improvement actions) as CSV to standard output."
    )

    def handle(self, *args, **options):
        write_history_csv(self.stdout, [model.history.all() for model in SETTINGS])
