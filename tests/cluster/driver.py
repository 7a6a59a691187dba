"""The cluster test's load: integrating systems logging complaints through the API, and
managers reading the dashboard, the export and the reports, all through HAProxy.

Smaller than the locust load test (tests/load), whose database takes minutes to seed, and
made to answer the cluster test's questions: every complaint the API accepted is kept (each
POST carries an Idempotency-Key, so the balancer may retry it on another node), and which
requests failed, telling those the balancer could not have retried (an answer already
begun when its node died) from those it should have.
"""

import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import requests

CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# What a manager reads: (name, path, text that proves it is the page asked for).
READS = [
    ("home and dashboard", "/", "Escalation queue"),
    ("export", "/complaints/export.csv", "Reference,Stage"),
    ("reports", "/reports/", "Trend reports"),
    ("search", "/complaints/?q=cluster&stage=all", "Complaints</h1>"),
]
TIMEOUT = 30
# Every complaint the load logs has an Idempotency-Key, and a customer address, starting so.
LOAD_PREFIX = "load-"


@dataclass
class Failure:
    at: float
    request: str
    error: str
    # The node's answer had begun when it failed: no balancer can retry that.
    begun: bool = False


@dataclass
class Tally:
    done: Counter = field(default_factory=Counter)
    finished_at: list = field(default_factory=list)  # monotonic time of each success
    failures: list = field(default_factory=list)
    created: dict = field(default_factory=dict)  # Idempotency-Key: reference
    lock: threading.Lock = field(default_factory=threading.Lock)

    def success(self, request):
        with self.lock:
            self.done[request] += 1
            self.finished_at.append(time.monotonic())

    def failure(self, request, error, begun=False):
        with self.lock:
            self.failures.append(Failure(time.monotonic(), request, str(error)[:300], begun))

    def rate(self, start, end):
        """Successful requests a second between two monotonic times."""
        return sum(start <= at < end for at in self.finished_at) / (end - start)


def signed_in(base_url, username, password):
    session = requests.Session()
    page = session.get(f"{base_url}/accounts/login/", timeout=TIMEOUT)
    page.raise_for_status()
    answer = session.post(
        f"{base_url}/accounts/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": CSRF_TOKEN.search(page.text).group(1),
        },
        timeout=TIMEOUT,
    )
    if "Escalation queue" not in answer.text:
        raise RuntimeError(f"{username} could not sign in: HTTP {answer.status_code}")
    return session


def complaint_body(category, key):
    return {
        "channel": "phone",
        "customer_name": "Cluster Customer",
        "customer_email": f"{key}@example.com",
        "customer_phone": "+44 7700 900123",
        "date_of_complaint": "2024-01-15",
        "category": category,
        "description": f"cluster test complaint {key}: charged twice for one purchase.",
        "interaction_details": "Called the helpline.",
    }


class Load:
    def __init__(self, base_url, seed, *, writers=3, readers=4, writer_pause=0.2):
        self.base_url = base_url
        self.seed = seed
        self.writer_pause = writer_pause
        self.tally = Tally()
        self.stopping = threading.Event()
        managers = seed["managers"]
        self.sessions = [
            signed_in(base_url, managers[n % len(managers)], seed["password"])
            for n in range(readers)
        ]
        self.threads = [threading.Thread(target=self.write, daemon=True) for _ in range(writers)]
        self.threads += [
            threading.Thread(target=self.read, args=(session, n), daemon=True)
            for n, session in enumerate(self.sessions)
        ]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=TIMEOUT + 5)

    def write(self):
        session = requests.Session()
        session.headers["Authorization"] = f"Token {self.seed['token']}"
        while not self.stopping.is_set():
            key = f"{LOAD_PREFIX}{uuid.uuid4()}"
            try:
                answer = session.post(
                    f"{self.base_url}/api/v1/complaints/",
                    json=complaint_body(self.seed["category"], key),
                    headers={"Idempotency-Key": key},
                    timeout=TIMEOUT,
                )
            except requests.RequestException as error:
                self.tally.failure("log complaint", error)
            else:
                if answer.status_code in (200, 201):
                    self.tally.created[key] = answer.json()["reference"]
                    self.tally.success("log complaint")
                else:
                    self.tally.failure("log complaint", f"HTTP {answer.status_code}")
            self.stopping.wait(self.writer_pause)

    def read(self, session, offset):
        turn = offset
        while not self.stopping.is_set():
            name, path, marker = READS[turn % len(READS)]
            turn += 1
            self.get(session, name, path, marker)

    def get(self, session, name, path, marker):
        begun = False
        try:
            with session.get(f"{self.base_url}{path}", timeout=TIMEOUT, stream=True) as answer:
                begun = True
                text = answer.content.decode()
        except requests.RequestException as error:
            self.tally.failure(name, error, begun)
            return
        if answer.status_code != 200 or marker not in text:
            self.tally.failure(name, f"HTTP {answer.status_code}, {marker!r} missing")
        else:
            self.tally.success(name)
