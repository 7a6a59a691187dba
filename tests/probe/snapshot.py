"""Ground truth for the black-box probe (tests/probe/probe.py): every complaint with the fields
the visibility rule in docs/workflow.md turns on, its attachments and consultations, and a
customer link per complaint. Run with `manage.py shell < tests/probe/snapshot.py > file.json`.
Not collected by pytest."""

import json

from complaints import links
from complaints.models import Attachment, Complaint, Consultation
from complaints.workflow import OPEN_STAGE_VALUES
from reports.models import ProcedureReview, TrendReport


def _name(user):
    return user.username if user else None


print(
    json.dumps(
        {
            "complaints": [
                {
                    "id": c.pk,
                    "reference": c.reference,
                    "customer_name": c.customer_name,
                    "assignee": _name(c.assignee),
                    "logged_by": _name(c.logged_by),
                    "escalation_level": c.escalation_level,
                    "open": c.stage in OPEN_STAGE_VALUES,
                    "link": links.customer_link(c),
                }
                for c in Complaint.objects.select_related("assignee", "logged_by")
            ],
            "attachments": [
                {"id": a.pk, "complaint": a.complaint_id} for a in Attachment.objects.all()
            ],
            "consultations": [
                {"id": c.pk, "complaint": c.complaint_id, "consultee": _name(c.consultee)}
                for c in Consultation.objects.select_related("consultee")
            ],
            "reports": list(TrendReport.objects.values_list("pk", flat=True)),
            "reviews": list(ProcedureReview.objects.values_list("pk", flat=True)),
        }
    )
)
