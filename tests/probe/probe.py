"""Black-box security probe of a running Redress (not collected by pytest: no test_ prefix).

Signs in as every demo role, as an anonymous visitor, as a customer holding a link and as API
token holders; walks every URL of the URL map and every page it can reach; sends every method;
fills every query parameter and form field it finds with hostile values; uploads through the
staff page, the API and the customer link; and records:

- any 5xx, with the request that caused it;
- any complaint (or its attachment or consultation) a role should not see, by the rule in
  docs/workflow.md, worked out here from the snapshot, not from the application's own code;
- missing security headers, cookies without HttpOnly/SameSite (Secure on https);
- stack traces or settings in a response when the server runs with DEBUG off.

Usage (the snapshot comes from `manage.py shell < tests/probe/snapshot.py`):

    python tests/probe/probe.py --base http://127.0.0.1:8072 --snapshot snap.json \
        --write-token-file w --read-token-file r --debug-off --out report.json

Tokens are read from files so that no secret is written here.
"""

import argparse
import collections
import json
import random
import re
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlparse

import requests

PASSWORD = "redress-demo"
STAFF = ("csr", "csr2", "resolver", "manager", "admin")
HOSTILE = [
    "9" * 30,
    "1e400",
    "-1",
    "-99999999999",
    "0",
    "\x00",
    "a\x00b",
    "x" * 50_000,
    "ü漢字😀\u202e\ufeff",
    "0001-01-01",
    "0001-01-03",
    "9999-12-31",
    "2026-02-30",
    "../../../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1--",
    "NaN",
    "inf",
    "",
    " ",
    "%00",
]
# Hostile values in JSON: the same, plus what only JSON can carry.
JSON_HOSTILE = HOSTILE + [
    10**30,
    -(10**30),
    1.5,
    True,
    None,
    [],
    {},
    [1, 2],
    {"a": {"b": 1}},
]
PATH_IDS = ["0", "9" * 30, "2147483648", "9223372036854775808", "..%2f..%2fetc%2fpasswd", "%00"]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
TRACE_MARKERS = (
    "Traceback (most recent call last)",
    "SECRET_KEY",
    "DATABASES",
    "settings.py",
    "/site-packages/",
    "psycopg",
    "django.db.utils",
    "You're seeing this error because you have",
)
NEVER_FOLLOW = ("/accounts/logout/", "/static/", "/accounts/sso/")


class Forms(HTMLParser):
    """Forms (action, method, fields) and links of a page."""

    def __init__(self):
        super().__init__()
        self.forms, self.links, self._form, self._select = [], [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            self._form = {
                "action": attrs.get("action") or "",
                "method": (attrs.get("method") or "get").upper(),
                "enctype": attrs.get("enctype") or "",
                "fields": {},
                "files": [],
            }
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "textarea", "select", "button"):
            name = attrs.get("name")
            if not name:
                return
            kind = attrs.get("type", "text")
            if kind == "file":
                self._form["files"].append(name)
            elif kind in ("checkbox", "radio") and "checked" not in attrs:
                self._form["fields"].setdefault(name, None)
            elif tag == "button" or kind == "submit":
                self._form["fields"].setdefault(name, attrs.get("value", ""))
            else:
                self._form["fields"][name] = attrs.get(
                    "value", "probe" if tag != "select" else None
                )
            if tag == "select":
                self._select = name
        elif (
            tag == "option"
            and self._select
            and self._form is not None
            and self._form["fields"].get(self._select) in (None, "")
        ):
            self._form["fields"][self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def pattern_of(path):
    """/complaints/12/edit/ -> /complaints/{n}/edit/: one crawl budget per URL shape."""
    return re.sub(r"/c/[^/]+/", "/c/{t}/", re.sub(r"/\d+", "/{n}", path))


class Probe:
    def __init__(self, args):
        self.base = args.base.rstrip("/")
        self.https = self.base.startswith("https")
        self.debug_off = args.debug_off
        self.snap = json.loads(Path(args.snapshot).read_text())
        self.tokens = {
            "token-write": Path(args.write_token_file).read_text().strip(),
            "token-read": Path(args.read_token_file).read_text().strip(),
        }
        self.count = collections.Counter()
        self.status = collections.Counter()
        self.errors = []  # 5xx
        self.findings = collections.OrderedDict()  # deduplicated by key
        self.sessions = {}
        self.rng = random.Random(25)
        self.deadline = time.monotonic() + args.minutes * 60

    # -- sending and checking ------------------------------------------------------------

    def finding(self, kind, key, detail):
        self.findings.setdefault((kind, key), detail)

    def send(self, role, method, url, **kwargs):
        session = self.sessions.get(role) or requests.Session()
        url = url if url.startswith("http") else self.base + url
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 60)
        self.count[role] += 1
        try:
            response = session.request(method, url, **kwargs)
        except requests.RequestException as error:
            self.errors.append(
                {"role": role, "method": method, "url": url[:300], "error": repr(error)[:300]}
            )
            return None
        self.status[response.status_code // 100] += 1
        if response.status_code >= 500:
            self.errors.append(
                {
                    "role": role,
                    "method": method,
                    "url": url[:300],
                    "status": response.status_code,
                    "sent": summarise(kwargs),
                }
            )
        self.check(role, method, url, response)
        return response

    def check(self, role, method, url, response):
        path = urlparse(url).path
        shape = pattern_of(path)
        headers = response.headers
        if path.startswith("/static/"):
            return
        wanted = {
            "Content-Security-Policy": None,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": None,
            "Referrer-Policy": None,
        }
        for name, value in wanted.items():
            if name not in headers or (value and headers[name] != value):
                self.finding("header", (name, shape, response.status_code), f"{method} {path}")
        if "no-store" not in headers.get("Cache-Control", "") and response.status_code < 500:
            self.finding("cache", (shape, response.status_code), f"{method} {path} as {role}")
        if not self.https and "Strict-Transport-Security" in headers:
            self.finding("hsts-on-http", shape, f"{method} {path}")
        for cookie in response.raw.headers.getlist("Set-Cookie"):
            name = cookie.split("=", 1)[0]
            flags = cookie.lower()
            missing = [f for f in ("httponly", "samesite") if f not in flags]
            if self.https and "secure" not in flags:
                missing.append("secure")
            if missing:
                self.finding("cookie", (name, tuple(missing)), cookie[:120])
        if self.debug_off and response.status_code != 304:
            text = (
                response.text
                if "text" in headers.get("Content-Type", "")
                or "json" in headers.get("Content-Type", "")
                else ""
            )
            for marker in TRACE_MARKERS:
                if marker in text:
                    self.finding("trace", (marker, shape), f"{method} {url[:200]}")

    def out_of_time(self):
        return time.monotonic() > self.deadline

    # -- sessions ---------------------------------------------------------------------------

    def sign_in(self, role):
        session = requests.Session()
        self.sessions[role] = session
        page = self.send(role, "GET", "/accounts/login/")
        response = self.send(
            role,
            "POST",
            "/accounts/login/",
            data={
                "username": role,
                "password": PASSWORD,
                "csrfmiddlewaretoken": csrf_from(page.text),
            },
            headers={"Referer": self.base + "/accounts/login/"},
        )
        if response.status_code != 302:
            sys.exit(f"{role} could not sign in: {response.status_code}")

    def csrf(self, role):
        session = self.sessions.get(role)
        return session.cookies.get("csrftoken", "") if session else ""

    # -- the URL map ----------------------------------------------------------------------

    def ids(self):
        snap = self.snap
        demo = [c for c in snap["complaints"] if c["logged_by"] or c["assignee"]]
        others = [c for c in snap["complaints"] if not (c["logged_by"] or c["assignee"])]
        # One complaint of every kind the rule distinguishes, then a random few more.
        kinds = {}
        for c in demo:
            kinds.setdefault((c["assignee"], c["logged_by"], c["escalation_level"], c["open"]), c)
        sample = list(kinds.values()) + self.rng.sample(demo, min(30, len(demo)))
        return sample + self.rng.sample(others, min(20, len(others)))

    def url_map(self):
        """Every URL pattern of the staff site, the customer's pages and the API, filled in."""
        c = self.snap["complaints"][-1]["id"]
        report = (self.snap["reports"] or [1])[0]
        consultation = (self.snap["consultations"] or [{"id": 1}])[0]["id"]
        attachment = (self.snap["attachments"] or [{"id": 1}])[0]["id"]
        link = urlparse(self.snap["complaints"][0]["link"]).path.split("/")[2]
        urls = [
            "/",
            "/accounts/login/",
            "/accounts/password/",
            "/accounts/password/done/",
            "/accounts/two-step/",
            "/accounts/two-step/verify/",
            "/accounts/two-step/set-up/",
            "/accounts/two-step/recovery-codes/",
            "/accounts/passkeys/registration/begin/",
            "/accounts/passkeys/registration/complete/",
            "/accounts/passkeys/authentication/begin/",
            "/accounts/passkeys/authentication/complete/",
            "/accounts/passkeys/jsi18n/",
            "/accounts/sso/callback/",
            "/complaints/",
            "/complaints/new/",
            "/complaints/export.csv",
            f"/complaints/{c}/",
            f"/complaints/{c}/edit/",
            f"/complaints/consultations/{consultation}/",
            f"/complaints/consultations/{consultation}/answer/",
            "/complaints/jobs/",
            "/complaints/import/",
            f"/complaints/attachments/{attachment}/",
            "/reports/",
            "/reports/rebuild/",
            f"/reports/{report}/",
            f"/reports/{report}/categories.csv",
            "/reports/reviews/",
            "/reports/reviews/actions/1/",
            "/complain/",
            "/complain/thanks/",
            f"/c/{link}/",
            f"/c/{link}/add/",
            f"/c/{link}/respond/",
            f"/c/{link}/feedback/",
            "/api/v1/complaints/",
            f"/api/v1/complaints/{c}/",
            *(f"/api/v1/complaints/{c}/{a}/" for a in API_ACTIONS),
            "/api/v1/schema/",
            "/api/v1/docs/",
            "/api/v1/dashboard/",
            "/api/v1/reports/",
            f"/api/v1/reports/{report}/",
            "/health/",
            "/metrics",
            "/admin/",
            "/admin/accounts/user/",
            "/admin/accounts/user/1/change/",
            "/admin/accounts/user/1/history/",
            "/admin/accounts/apitoken/",
            "/admin/accounts/securityevent/",
            f"/admin/complaints/complaint/{c}/change/",
            f"/admin/complaints/complaint/{c}/history/",
            "/admin/jsi18n/",
        ]
        for action in WEB_ACTIONS:
            urls.append(f"/complaints/{c}/{action}/")
        # Hostile ids in every id-bearing pattern.
        shaped = []
        for url in urls:
            if re.search(r"/\d+", url):
                for bad in PATH_IDS:
                    shaped.append(re.sub(r"/\d+", "/" + bad, url, count=1))
        shaped += [f"/c/{bad}/" for bad in ("x", "..%2f..%2f", link[:-2] + "AA", "a" * 5000)]
        return urls, shaped

    def walk_url_map(self, roles):
        urls, shaped = self.url_map()
        for role in roles:
            for url in urls:
                for method in METHODS:
                    self.send(role, method, url, **self.auth(role, url))
            for url in shaped:
                for method in ("GET", "POST"):
                    self.send(role, method, url, **self.auth(role, url))

    def auth(self, role, url, data=None):
        """Headers a role sends: a token on the API, the CSRF token on a signed-in session."""
        headers = {"Referer": self.base + "/"}
        if role in self.tokens and url.startswith("/api/"):
            headers["Authorization"] = "Token " + self.tokens[role]
        elif role in self.sessions:
            headers["X-CSRFToken"] = self.csrf(role)
        return {"headers": headers}

    # -- crawling and form fuzzing ----------------------------------------------------------

    def crawl(self, role, starts, limit=90, per_shape=3):
        seen, shapes, queue, forms = set(), collections.Counter(), list(starts), {}
        query_names = collections.defaultdict(set)
        while queue and len(seen) < limit and not self.out_of_time():
            url = queue.pop(0)
            parsed = urlparse(url)
            path = parsed.path
            if url in seen or any(path.startswith(p) for p in NEVER_FOLLOW):
                continue
            if shapes[pattern_of(path)] >= per_shape:
                continue
            seen.add(url)
            shapes[pattern_of(path)] += 1
            response = self.send(role, "GET", url)
            if response is None or "html" not in response.headers.get("Content-Type", ""):
                continue
            parser = Forms()
            parser.feed(response.text)
            for form in parser.forms:
                action = urljoin(self.base + path, form["action"] or path)
                action_path = urlparse(action).path
                key = (form["method"], pattern_of(action_path), tuple(sorted(form["fields"])))
                form["action"] = action_path
                form["page"] = path
                forms.setdefault(key, form)
            for href in parser.links:
                target = urljoin(self.base + path, href)
                if not target.startswith(self.base):
                    continue
                target_parsed = urlparse(target)
                for name, _ in parse_qsl(target_parsed.query):
                    query_names[target_parsed.path].add(name)
                queue.append(target[len(self.base) :])
        return list(forms.values()), query_names

    def fuzz_get(self, role, path, names, rounds=None):
        for name in sorted(names):
            for value in rounds or HOSTILE:
                self.send(role, "GET", path, params={name: value})
        # All at once, as a bookmarked hostile URL would.
        self.send(role, "GET", path, params={n: "9" * 30 for n in names})

    def fuzz_post(self, role, form, values=None):
        base = {k: ("probe" if v is None else v) for k, v in form["fields"].items()}
        base.pop("csrfmiddlewaretoken", None)
        headers = {"Referer": self.base + form["page"]}
        for name in list(base):
            for value in values or HOSTILE:
                if self.out_of_time():
                    return
                data = dict(base, **{name: value})
                data["csrfmiddlewaretoken"] = self.csrf(role)
                self.send(role, "POST", form["action"], data=data, headers=headers)
        # No CSRF token: must be refused (403), whatever else happens.
        response = self.send(role, "POST", form["action"], data=base, headers=headers)
        if response is not None and response.status_code not in (403, 404, 405):
            self.finding("csrf", pattern_of(form["action"]), f"{role} POST {form['action']}")
        for field in form["files"]:
            self.uploads(role, form["action"], field, base, headers)

    def uploads(self, role, action, field, base, headers):
        files = [
            ("x.pdf", b"%PDF-1.4\n%probe\n", "application/pdf"),
            ("../../../etc/passwd.pdf", b"%PDF-1.4\n", "application/pdf"),
            ("evil.html", b"<html><script>alert(1)</script></html>", "text/html"),
            ("evil.pdf", b"<html><script>alert(1)</script></html>", "application/pdf"),
            (
                "late.pdf",
                b"%PDF-1.4\n" + b"A" * 70_000 + b"<script>alert(1)</script>",
                "application/pdf",
            ),
            ("img.svg", b"<svg onload=alert(1)></svg>", "image/svg+xml"),
            ("empty.pdf", b"", "application/pdf"),
            ("ü漢字😀\u202e.pdf", b"%PDF-1.4\n", "application/pdf"),
            ("nul\x00.pdf", b"%PDF-1.4\n", "application/pdf"),
            ("x" * 5000 + ".pdf", b"%PDF-1.4\n", "application/pdf"),
            ("big.pdf", b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024), "application/pdf"),
        ]
        for name, content, kind in files:
            data = dict(base, csrfmiddlewaretoken=self.csrf(role))
            self.send(
                role,
                "POST",
                action,
                data=data,
                files={field: (name, content, kind)},
                headers=headers,
            )

    # -- the API ----------------------------------------------------------------------------

    def api(self, role):
        c = self.visible_for("csr")[0]["id"]
        kw = self.auth(role, "/api/")
        list_params = [
            "acknowledgment",
            "assignee",
            "category",
            "channel",
            "escalated",
            "feedback_from",
            "overdue",
            "page",
            "page_size",
            "q",
            "queue",
            "received_from",
            "received_to",
            "resolved_from",
            "sort",
            "stage",
        ]
        for name in list_params:
            for value in HOSTILE:
                self.send(role, "GET", "/api/v1/complaints/", params={name: value}, **kw)
        for name in ("page", "page_size", "period"):
            for value in HOSTILE:
                self.send(role, "GET", "/api/v1/reports/", params={name: value}, **kw)
        bodies = {
            "": {
                "channel": "email",
                "customer_name": "Probe",
                "date_of_complaint": "2026-12-01",
                "category": 1,
                "description": "probe",
                "customer_email": "p@example.com",
                "product": 1,
                "complexity": "simple",
                "customer_phone": "1",
                "transaction_reference": "t",
                "interaction_details": "i",
                "social_media_handle": "h",
                "social_media_post_url": "https://example.com",
            },
            "notes/": {"text": "probe"},
            "transition/": {"to": "acknowledged", "note": "n", "expected_stage": "received"},
            "acknowledge/": {"method": "email", "note": "n", "expected_stage": "received"},
            "assign/": {"assignee": 1},
            "escalate/": {"level": "team", "reason": "r"},
            "resolution/": {
                "type": "apology",
                "description": "d",
                "amount": "1",
                "customer_action": "a",
                "expected_stage": "investigating",
            },
        }
        for suffix, body in bodies.items():
            url = "/api/v1/complaints/" + (f"{c}/{suffix}" if suffix else "")
            for field in body:
                for value in JSON_HOSTILE:
                    if self.out_of_time():
                        return
                    self.send(role, "POST", url, json=dict(body, **{field: value}), **kw)
            # Raw bodies JSON cannot express through json=: 1e400, deep nesting, junk.
            raw = json.dumps(body)
            for blob in (
                raw.replace("}", ', "category": 1e400}'),
                raw.replace("}", ', "assignee": 1e400}'),
                "[" * 50_000 + "]" * 50_000,
                '{"a":' * 50_000 + "1" + "}" * 50_000,
                "{",
                "null",
                "[]",
                '"x"',
                "1e400",
                "\x00",
                "\ud800",
                "x" * 1_000_000,
            ):
                self.send(
                    role,
                    "POST",
                    url,
                    data=blob.encode("utf-8", "surrogatepass"),
                    headers=dict(kw["headers"], **{"Content-Type": "application/json"}),
                )
            for kind in (
                "text/plain",
                "application/xml",
                "application/x-www-form-urlencoded",
                "multipart/form-data",
                "application/json; charset=latin-1",
                "",
                "a/b;;;",
            ):
                self.send(
                    role,
                    "POST",
                    url,
                    data=raw.encode(),
                    headers=dict(kw["headers"], **{"Content-Type": kind}),
                )
        for key in ("x" * 5000, "\x00", "ü", ""):
            self.send(
                role,
                "POST",
                "/api/v1/complaints/",
                json=bodies[""],
                headers=dict(kw["headers"], **{"Idempotency-Key": key}),
            )
        self.uploads(role, f"/api/v1/complaints/{c}/attachments/", "file", {}, kw["headers"])

    # -- who sees what ----------------------------------------------------------------------

    def visible_for(self, role):
        return [c for c in self.snap["complaints"] if expected_visible(role, c)]

    def leaks(self, roles):
        sample = self.ids()
        consult_of = collections.defaultdict(list)
        for row in self.snap["consultations"]:
            consult_of[row["complaint"]].append(row)
        attach_of = collections.defaultdict(list)
        for row in self.snap["attachments"]:
            attach_of[row["complaint"]].append(row)
        for role in roles:
            for c in sample:
                should = expected_visible(role if role in STAFF else "csr", c)
                if role == "anonymous":
                    should = False
                urls = [f"/complaints/{c['id']}/", f"/api/v1/complaints/{c['id']}/"]
                urls += [f"/complaints/attachments/{a['id']}/" for a in attach_of[c["id"]]]
                for row in consult_of[c["id"]]:
                    urls.append(f"/complaints/consultations/{row['id']}/")
                for url in urls:
                    response = self.send(role, "GET", url, **self.auth(role, url))
                    if response is None:
                        continue
                    shown = response.status_code == 200 and (
                        c["reference"] in response.text
                        or c["customer_name"] in response.text
                        or "attachments" in url
                    )
                    # A consultation is the consultee's too; only flag it when nothing allows it.
                    if "consultations" in url and role in [
                        r["consultee"] for r in consult_of[c["id"]]
                    ]:
                        continue
                    if shown and not should:
                        self.finding(
                            "leak", (role, url), f"{role} GET {url} shows {c['reference']}"
                        )
                if not should and role in STAFF:
                    response = self.send(role, "GET", "/complaints/", params={"q": c["reference"]})
                    # The search box repeats the query, so look for the row's link instead.
                    if response is not None and f'href="/complaints/{c["id"]}/"' in response.text:
                        self.finding(
                            "leak", (role, "list", c["id"]), f"{role} list q={c['reference']}"
                        )
        # The customer's link: its own complaint only; tampered links show nothing.
        for c in sample[:15]:
            path = urlparse(c["link"]).path
            token = path.split("/")[2]
            good = self.send("link", "GET", path)
            if good is None or good.status_code != 200:
                self.finding("link", c["id"], f"a valid link answered {good and good.status_code}")
                continue
            for other in sample[15:20]:
                if other["reference"] in good.text and other["id"] != c["id"]:
                    self.finding(
                        "leak", ("link", c["id"]), f"link of {c['id']} shows {other['reference']}"
                    )
            for bad in (
                token[:-1] + ("A" if token[-1] != "A" else "B"),
                token.split(":")[0],
                token.split(":")[0] + ":" + "0" * 6 + ":" + token.split(":")[2],
            ):
                response = self.send("link", "GET", f"/c/{bad}/")
                if response is not None and c["reference"] in response.text:
                    self.finding("leak", ("tampered-link", c["id"]), f"GET /c/{bad}/")

    # -- the run ----------------------------------------------------------------------------

    def run(self):
        for role in STAFF:
            self.sign_in(role)
        for role in ("anonymous", "link"):
            self.sessions[role] = requests.Session()
            self.send(role, "GET", "/complain/")
        self.leaks(STAFF + ("anonymous", "token-write", "token-read"))
        self.walk_url_map(STAFF + ("anonymous", "token-write", "token-read"))
        for role in ("token-write", "token-read", "csr", "manager", "anonymous"):
            if not self.out_of_time():
                self.api(role)
        link = urlparse(self.visible_for("csr")[0]["link"]).path
        starts = [
            "/",
            "/complaints/",
            "/complaints/new/",
            "/reports/",
            "/reports/reviews/",
            "/complaints/jobs/",
            "/complaints/import/",
            "/accounts/password/",
            "/accounts/two-step/",
        ]
        for role in ("csr", "resolver", "manager", "admin", "csr2", "anonymous", "link"):
            if self.out_of_time():
                break
            first = (
                [link]
                if role == "link"
                else (["/complain/", "/accounts/login/"] if role == "anonymous" else starts)
            )
            if role == "admin":
                first = first + ["/admin/"]
            forms, query_names = self.crawl(role, first)
            for path, names in query_names.items():
                if not path.startswith("/admin/"):
                    self.fuzz_get(role, path, names)
            for form in forms:
                if form["action"].startswith(("/accounts/logout/", "/admin/")) and role != "admin":
                    continue
                if form["action"].startswith("/accounts/login/"):
                    continue  # last: fuzzing it locks the address out
                if form["method"] == "GET":
                    self.fuzz_get(role, form["action"], form["fields"])
                elif not form["action"].startswith("/accounts/logout/"):
                    self.fuzz_post(role, form)
        # The sign-in form last, as anonymous.
        self.sessions.pop("anonymous", None)
        page = self.send("anonymous", "GET", "/accounts/login/")
        for value in HOSTILE:
            self.send(
                "anonymous",
                "POST",
                "/accounts/login/",
                data={
                    "username": value,
                    "password": value,
                    "csrfmiddlewaretoken": csrf_from(page.text),
                },
                cookies=page.cookies,
                headers={"Referer": self.base + "/accounts/login/"},
            )

    def report(self):
        return {
            "base": self.base,
            "requests": dict(self.count),
            "total": sum(self.count.values()),
            "status_classes": {f"{k}xx": v for k, v in sorted(self.status.items())},
            "server_errors": self.errors,
            "findings": [
                {"kind": kind, "key": repr(key), "detail": detail}
                for (kind, key), detail in self.findings.items()
            ],
        }


WEB_ACTIONS = (
    "take",
    "assign",
    "escalate",
    "acknowledge",
    "transition",
    "note",
    "attach",
    "consult",
    "propose_resolution",
    "approve_resolution",
    "record_customer_response",
    "implement_resolution",
    "record_feedback",
    "review",
    "nonsense",
    "..",
)
API_ACTIONS = (
    "notes",
    "attachments",
    "transition",
    "acknowledge",
    "assign",
    "escalate",
    "resolution",
)


def expected_visible(role, c):
    """docs/workflow.md: a CSR sees the intake queue (open, nobody owns it) and their own; the
    resolution team what is escalated to the team or assigned to them; managers everything."""
    if role in ("manager", "admin"):
        return True
    if role in ("csr", "csr2", "token-write", "token-read"):
        user = "csr" if role.startswith("token") else role
        return (c["assignee"] is None and c["open"]) or user in (c["assignee"], c["logged_by"])
    if role == "resolver":
        return c["escalation_level"] == "team" or c["assignee"] == "resolver"
    return False


def csrf_from(html):
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return match.group(1) if match else ""


def summarise(kwargs):
    out = {}
    for key in ("params", "data", "json"):
        value = kwargs.get(key)
        if value is None:
            continue
        text = value if isinstance(value, (str, bytes)) else json.dumps(value, default=str)
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        out[key] = text[:200] + (f"... ({len(text)} chars)" if len(text) > 200 else "")
    if kwargs.get("files"):
        out["files"] = {k: (v[0][:60], len(v[1])) for k, v in kwargs["files"].items()}
    ctype = kwargs.get("headers", {}).get("Content-Type")
    if ctype is not None:
        out["content_type"] = ctype
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--snapshot", required=True)
    parser.add_argument("--write-token-file", required=True)
    parser.add_argument("--read-token-file", required=True)
    parser.add_argument("--debug-off", action="store_true")
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    probe = Probe(args)
    try:
        probe.run()
    finally:
        report = probe.report()
        Path(args.out).write_text(json.dumps(report, indent=1, ensure_ascii=False))
        print(json.dumps({k: report[k] for k in ("requests", "total", "status_classes")}))
        print(f"5xx: {len(report['server_errors'])}, findings: {len(report['findings'])}")


if __name__ == "__main__":
    main()
