"""Redress under load: CSRs, resolvers and managers at their day's work (make load).

Each simulated person signs in through the real form and then loops over what their role
does. A response counts as an error when its status is not 2xx/3xx (after redirects) or when
the page lacks the text that proves it is the page asked for: a signed-out user lands on the
sign-in page with a 200, and that must not pass for a queue. Run it through run.py, which
starts the server and the database it needs.

Each user opens only complaints that stay visible to it whatever the others do: a CSR its
own and those in its own bucket of the intake queue (scenario.py), a resolver those
escalated to the team or its own, a manager any. A complaint another CSR has just taken
answers 404 to the rest, by design, and would count as an error.
"""

import csv
import itertools
import os
import random
import re
import time
from urllib.parse import quote_plus

import scenario
from locust import HttpUser, between, events, task

CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
COMPLAINT_LINK = re.compile(r'href="/complaints/(\d+)/"')
REPORT_LINK = re.compile(r'href="/reports/(\d+)/"')
REFERENCE = re.compile(r"CMP-\d{4}-\d{6}")
SUBMISSION_TOKEN = re.compile(r'name="submission" value="([^"]+)"')
CATEGORY_OPTION = re.compile(r'<select name="category"[^>]*>.*?<option value="(\d+)"', re.DOTALL)
SEARCH_WORDS = ["Shah", "broadband", "charged twice", "overdraft fee", "mortgage", "meter"]
NOTES = [
    "Called the customer back; they will send the statement.",
    "Checked the payment history: two debits on the same day.",
    "Asked the branch for the adviser's notes.",
]
LIST_MARKER = "Complaints</h1>"

# The steady state, for run.py: every request from the moment the last user has signed in
# to the end, written to LOAD_STEADY_CSV.
_steady = {"users": None, "signed_in": 0, "from": None, "rows": []}


def _all_signed_in():
    users = _steady["users"]
    if _steady["from"] is None and users is not None and _steady["signed_in"] >= users:
        _steady["from"] = time.time()


@events.spawning_complete.add_listener
def _spawned(user_count, **kwargs):
    _steady["users"] = user_count
    _all_signed_in()


@events.request.add_listener
def _request(request_type, name, response_time, exception, **kwargs):
    if name == "sign in":
        _steady["signed_in"] += 1
        _all_signed_in()
    elif _steady["from"] is not None:
        row = (f"{time.time():.3f}", f"{request_type} {name}", response_time, bool(exception))
        _steady["rows"].append(row)


@events.quitting.add_listener
def _write_steady(environment, **kwargs):
    path = os.environ.get("LOAD_STEADY_CSV")
    if path:
        with open(path, "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["at", "request", "ms", "failed"])
            writer.writerow([f"{_steady['from'] or 0:.3f}", "", "", ""])  # the window's start
            writer.writerows(_steady["rows"])


_buckets = itertools.count()
_accounts = {
    "csr": itertools.cycle(scenario.CSR_ACCOUNTS),
    "resolver": itertools.cycle(scenario.RESOLVER_ACCOUNTS),
    "manager": itertools.cycle(scenario.MANAGER_ACCOUNTS),
}


def links(text, after=""):
    """Complaint ids linked from the page, or from the part after `after`."""
    if after:
        text = text.partition(after)[2]
    return COMPLAINT_LINK.findall(text)


class Staff(HttpUser):
    abstract = True
    # Busier than a person: each simulated user stands for several people at their desks.
    wait_time = between(0.5, 2.0)
    role = ""
    home_markers = ()

    def on_start(self):
        self.username = next(_accounts[self.role])
        self.token = ""
        self.complaints = set()  # ids this user may open
        self.references = []
        self.page("/accounts/login/", "sign-in page", "Sign in")
        with self.client.post(
            "/accounts/login/",
            data={
                "username": self.username,
                "password": scenario.PASSWORD,
                "csrfmiddlewaretoken": self.token,
                "next": "",
            },
            name="sign in",
            catch_response=True,
        ) as response:
            page = self.check(response, *self.home_markers)
        self.remember(page)

    # Requests -----------------------------------------------------------------------------

    def page(self, path, name, *markers):
        with self.client.get(path, name=name, catch_response=True) as response:
            return self.check(response, *markers)

    def post(self, path, name, data, *markers):
        data = {**data, "csrfmiddlewaretoken": self.token}
        with self.client.post(path, data=data, name=name, catch_response=True) as response:
            return self.check(response, *markers)

    def check(self, response, *markers):
        """Fail the request unless it ended 2xx/3xx on a page with every marker. Returns the
        page on success, '' on failure."""
        if not 200 <= response.status_code < 400:
            response.failure(f"HTTP {response.status_code}")
            return ""
        text = response.text
        missing = [marker for marker in markers if marker not in text]
        if missing:
            where = " (on the sign-in page)" if "/accounts/login/" in response.url else ""
            response.failure(f"missing {missing!r}{where}")
            return ""
        response.success()
        match = CSRF_TOKEN.search(text)
        if match:
            self.token = match.group(1)
        return text

    # What every role does ------------------------------------------------------------------

    def remember(self, home_page):
        """The complaints on the home page that stay visible to this user."""
        self.complaints.update(links(home_page))
        self.references = REFERENCE.findall(home_page)[:5] or self.references

    def home(self):
        self.remember(self.page("/", f"{self.role} home", *self.home_markers))

    def open_complaint(self):
        if not self.complaints:
            self.home()
        if not self.complaints:
            return None, ""
        pk = random.choice(sorted(self.complaints))
        return pk, self.page(f"/complaints/{pk}/", "complaint page", "Timeline")

    def add_note(self):
        pk, page = self.open_complaint()
        if pk and "Add a note" in page:
            self.post(
                f"/complaints/{pk}/note/", "add note", {"text": random.choice(NOTES)}, "Note added."
            )

    def search(self):
        word = random.choice([*SEARCH_WORDS, *self.references])
        self.page(f"/complaints/?q={quote_plus(word)}&stage=all", "search", LIST_MARKER)


class Csr(Staff):
    weight = 6
    role = "csr"
    home_markers = ("Intake queue", "My complaints")

    def on_start(self):
        self.bucket = next(_buckets) % scenario.BUCKETS
        super().on_start()
        self.find_own_bucket()

    def remember(self, home_page):
        # The intake queue on the home page is everyone's: another CSR may take one of those
        # at any moment, and it would then answer 404 here. Only "My complaints" stays.
        super().remember(home_page.partition("My complaints</h2>")[2])

    def find_own_bucket(self):
        page = self.page(
            f"/complaints/?q={scenario.bucket_word(self.bucket)}&stage=received&assignee=none",
            "search (own intake bucket)",
            LIST_MARKER,
        )
        self.waiting = links(page)
        self.complaints.update(self.waiting)

    @task(4)
    def start_page(self):
        self.home()

    @task(2)
    def intake_queue(self):
        self.page("/complaints/?assignee=none", "intake queue", LIST_MARKER)

    @task(3)
    def complaint_page(self):
        self.open_complaint()

    @task(2)
    def search_complaints(self):
        self.search()

    @task(1)
    def note(self):
        self.add_note()

    # Issue 24: a fifth of all requests are intakes (the form, then its POST). With the other
    # tasks' requests and the 6:3:1 mix of roles, a weight of 11 gives that share.
    @task(11)
    def log_complaint(self):
        form = self.page("/complaints/new/", "intake form", "Log complaint")
        token = SUBMISSION_TOKEN.search(form)
        if not token:
            return
        self.post(
            "/complaints/new/",
            "intake",
            {
                "channel": "phone",
                "customer_name": "Load Test Customer",
                "customer_phone": "07700 900123",
                "date_of_complaint": time.strftime("%Y-%m-%d"),
                "category": CATEGORY_OPTION.search(form).group(1),
                "complexity": "standard",
                "description": "Charged twice for one purchase (load test).",
                "assign_to_me": "on",
                "submission": token.group(1),
            },
            "logged.",
            "Timeline",
        )

    @task(1)
    def take(self):
        self.find_own_bucket()
        if self.waiting:
            self.post(
                f"/complaints/{random.choice(self.waiting)}/take/",
                "take",
                {},
                "You took this complaint.",
            )


class Resolver(Staff):
    weight = 3
    role = "resolver"
    home_markers = ("Escalated to the resolution team", "My complaints")

    @task(4)
    def start_page(self):
        self.home()

    @task(3)
    def complaint_page(self):
        self.open_complaint()

    @task(1)
    def team_queue(self):
        self.complaints.update(
            links(self.page("/complaints/?escalated=team", "team queue", LIST_MARKER))
        )

    @task(1)
    def note(self):
        self.add_note()


class Manager(Staff):
    weight = 1
    role = "manager"
    home_markers = ("Escalation queue", "Team workload", "Open complaints")

    @task(3)
    def start_page(self):
        self.home()  # the escalation queue, the team's workload and the dashboard

    @task(2)
    def escalation_queue(self):
        self.complaints.update(
            links(self.page("/complaints/?escalated=manager", "escalation queue", LIST_MARKER))
        )

    @task(2)
    def complaint_page(self):
        self.open_complaint()

    @task(1)
    def search_complaints(self):
        self.search()

    @task(2)
    def report(self):
        reports = REPORT_LINK.findall(self.page("/reports/", "reports", "Trend reports"))
        if reports:
            self.page(f"/reports/{random.choice(reports)}/", "report page", "Received")
