"""The outbox: every message is a row first (messages.py renders and stores it in the
transaction of the change that causes it), then delivered exactly once (delivery.py)."""

from complaints.outbox.delivery import (
    RELAY_TASK,
    STALE_CLAIM,
    backoff,
    deliver,
    due_message_ids,
    publish_after_commit,
    safe_error,
    send_after_commit,
)

__all__ = [
    "RELAY_TASK",
    "STALE_CLAIM",
    "backoff",
    "deliver",
    "due_message_ids",
    "publish_after_commit",
    "safe_error",
    "send_after_commit",
]
