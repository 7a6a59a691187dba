"""Which retention policy governs a case, which cases are past it, and what stops a case's
personal data from being removed now."""

from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from complaints.models import Anonymisation, Complaint, LegalHold, Product, RetentionPolicy
from complaints.workflow import Stage


def policies_active():
    return list(RetentionPolicy.objects.filter(active=True).select_related("product"))


def policy_products(policy, policies):
    """The product ids a product's policy covers: the product and those of its sub-products
    without a policy of their own."""
    own = {p.product_id for p in policies if p.product_id}
    children = Product.objects.filter(parent_id=policy.product_id).exclude(pk__in=own)
    return {policy.product_id, *children.values_list("pk", flat=True)}


def policy_for(complaint, policies):
    """The policy of a case: its product's, else its parent product's, else the default."""
    by_product = {p.product_id: p for p in policies}
    product = complaint.product
    for product_id in (product.pk, product.parent_id) if product else ():
        if product_id in by_product:
            return by_product[product_id]
    return by_product.get(None)


def on_hold():
    return Exists(LegalHold.objects.filter(complaint=OuterRef("pk"), released_at__isnull=True))


def not_anonymised():
    return ~Exists(Anonymisation.objects.filter(complaint=OuterRef("pk")))


def complaints_past_retention(policy, policies, now=None):
    """Closed cases of `policy` past its anonymisation date, not yet anonymised, not held."""
    now = now or timezone.now()
    cases = Complaint.objects.filter(
        stage=Stage.REVIEWED,
        closed_at__lt=now - timedelta(days=policy.anonymise_after_days),
    ).filter(not_anonymised(), ~on_hold())
    if policy.product_id:
        return cases.filter(product_id__in=policy_products(policy, policies))
    covered = set()
    for other in policies:
        if other.product_id:
            covered |= policy_products(other, policies)
    return cases.exclude(product_id__in=covered) if covered else cases


def removal_blockers(complaints, now=None):
    """Why each case's personal data may not be removed on request now, in sentences; empty
    when it may. A case already anonymised is no obstacle."""
    now = now or timezone.now()
    policies = policies_active()
    holds = {
        hold.complaint_id: hold
        for hold in LegalHold.objects.filter(complaint__in=complaints, released_at__isnull=True)
    }
    anonymised = set(
        Anonymisation.objects.filter(complaint__in=complaints).values_list(
            "complaint_id", flat=True
        )
    )
    reasons = []
    for complaint in complaints:
        if complaint.pk in anonymised:
            continue
        if complaint.pk in holds:
            reasons.append(
                f"{complaint.reference} is under a legal hold ({holds[complaint.pk].reason})."
            )
        elif complaint.stage != Stage.REVIEWED:
            reasons.append(f"{complaint.reference} is still open; it must be closed first.")
        elif (policy := policy_for(complaint, policies)) is not None:
            keep_until = complaint.closed_at + timedelta(days=policy.minimum_days)
            if keep_until > now:
                reasons.append(
                    f"{complaint.reference} must be kept until "
                    f"{timezone.localdate(keep_until):%d %b %Y} under '{policy.name}' "
                    f"({policy.source})."
                )
    return reasons
