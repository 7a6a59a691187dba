"""The outbox: every message is a row first (messages.py renders and stores it in the
transaction of the change that causes it), then delivered exactly once (delivery.py)."""

from complaints.outbox.delivery import (
    RELAY_TASK,
    backoff,
    deliver,
    due_message_ids,
    message_id_for,
    publish_after_commit,
    reply_address,
    safe_error,
    send_after_commit,
    stale_claim,
)

__all__ = [
    "RELAY_TASK",
    "backoff",
    "deliver",
    "due_message_ids",
    "message_id_for",
    "publish_after_commit",
    "reply_address",
    "safe_error",
    "send_after_commit",
    "stale_claim",
]
