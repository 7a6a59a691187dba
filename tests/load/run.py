"""The load test (make load): Redress under gunicorn, driven by locust, on loopback only.

Prepares a database of its own (redress_load: migrated, demo data, load accounts and open
complaints), starts gunicorn on a free 127.0.0.1 port with DEBUG off, runs locust headless
in one process for each user count asked for, prints requests, failures, sustained
requests/s and median and 95th-percentile times per endpoint, and exits 1 if any request
failed. Everything stops by itself: locust after --duration, gunicorn when locust is done.

    python tests/load/run.py                     # 60 users for 60 s
    python tests/load/run.py --users 20,40,60    # one run per count
    python tests/load/run.py --users 60 --duration 90s --skip-prepare
"""

import argparse
import csv
import os
import resource
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
OUT = ROOT / "var" / "load"
PYTHON = sys.executable
# Settings that would change how the server answers on plain-HTTP loopback.
UNSET = [
    "CELERY_BROKER_URL",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SECURE_COOKIES",
    "SECURE_HSTS_SECONDS",
    "BEHIND_PROXY",
]


def server_env(port=0):
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    env.update(
        DATABASE_URL=os.environ.get(
            "LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/redress_load"
        ),
        REDIS_URL=os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/12"),
        DEBUG="0",
        # The load test's staff sign in with a password alone, as the demo's do.
        MFA_ENFORCED="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL=f"http://127.0.0.1:{port}",
        # Nothing the load test does should email anyone; if it did, it stays in memory.
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        LOG_LEVEL="WARNING",
        VAR_DIR=str(OUT / "var"),
    )
    return env


def step(title, command, env, timeout=900):
    started = time.monotonic()
    print(f"== {title}", flush=True)
    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=timeout)
    print(f"   ({time.monotonic() - started:.0f} s)", flush=True)


def ensure_database(url):
    import psycopg
    from psycopg import sql

    name = urlparse(url).path.lstrip("/")
    maintenance = urlparse(url)._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not exists.fetchone():
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"== created database {name}")


def prepare(env):
    ensure_database(env["DATABASE_URL"])
    step("migrate", [PYTHON, "manage.py", "migrate", "--no-input", "-v0"], env)
    step(
        "demo data (the first time: the CFPB import, about a minute)",
        [PYTHON, "manage.py", "seed_demo", "--demo"],
        env,
    )
    if static_files_stale():
        step(
            "collect static files (DEBUG off serves the hashed ones; a few minutes)",
            [PYTHON, "manage.py", "collectstatic", "--no-input", "-v0"],
            env,
        )


def static_files_stale():
    """Collecting and compressing every file takes minutes; do it when something changed."""
    manifest = ROOT / "var" / "static" / "staticfiles.json"
    if not manifest.exists():
        return True
    sources = [ROOT / "pyproject.toml", ROOT / "package-lock.json"]
    sources += [path for path in (ROOT / "static").rglob("*") if path.is_file()]
    return max(path.stat().st_mtime for path in sources) > manifest.stat().st_mtime


def seed(env):
    step("load accounts and open complaints", [PYTHON, str(HERE / "seed_load.py")], env)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(env, port, workers):
    import redis

    # The load server's own Redis database: no queued tasks or cached figures from last time.
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    log = open(OUT / "gunicorn.log", "w")  # noqa: SIM115  (open while the server runs)
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped at start; see {OUT / 'gunicorn.log'}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5):  # noqa: S310  (loopback)
                return server
        except OSError:
            time.sleep(0.5)
    stop_server(server)
    raise SystemExit("gunicorn did not answer within 30 s")


def stop_server(server):
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def seconds(duration):
    units = {"s": 1, "m": 60, "h": 3600}
    if duration[-1] in units:
        return int(duration[:-1]) * units[duration[-1]]
    return int(duration)


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class CpuMeter(threading.Thread):
    """CPU seconds used between start() and stop() by gunicorn (master and workers) and by
    the PostgreSQL backends serving the load database (when PostgreSQL runs here), sampled
    every second from /proc: Django replaces its connections every DB_CONN_MAX_AGE seconds,
    and a process that ends between two samples loses only its last second."""

    def __init__(self, server_pid, database):
        super().__init__(daemon=True)
        self.server_pid = str(server_pid)
        self.marker = f" {database} ".encode()
        self.first, self.last = {}, {}
        self.done = threading.Event()
        self.sample()

    def run(self):
        while not self.done.wait(1):
            self.sample()

    def sample(self):
        ticks = os.sysconf("SC_CLK_TCK")
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                title = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if self.server_pid in (proc.name, fields[1]):
                kind = "gunicorn"
            elif title.startswith(b"postgres:") and self.marker in title:
                kind = "postgres"
            else:
                continue
            cpu = (int(fields[11]) + int(fields[12])) / ticks
            # A process first seen after the first sample started during the run.
            self.first.setdefault(proc.name, (kind, cpu if not self.last else 0.0))
            self.last[proc.name] = (kind, cpu)

    def stop(self):
        self.done.set()
        self.join()
        self.sample()
        used = {"gunicorn": 0.0, "postgres": 0.0}
        for pid, (kind, cpu) in self.last.items():
            used[kind] += cpu - self.first[pid][1]
        return used


def run_locust(url, users, spawn_rate, duration, env):
    prefix = OUT / f"u{users}"
    with open(OUT / f"locust-u{users}.log", "w") as log:
        completed = subprocess.run(
            [
                PYTHON,
                "-m",
                "locust",
                "-f",
                str(HERE / "locustfile.py"),
                "--headless",
                "--host",
                url,
                "-u",
                str(users),
                "-r",
                str(spawn_rate),
                "-t",
                duration,
                "--stop-timeout",
                "5",
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={**env, "LOAD_STEADY_CSV": f"{prefix}_steady.csv"},
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=seconds(duration) + 120,
        )
    return prefix, completed.returncode


def read_rows(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0


def summary(prefix, users, duration):
    """Requests and failures of the whole run (locust's CSV); rate and times of the steady
    state (locustfile.py's: from the moment the last user has signed in to the end)."""
    stats = read_rows(f"{prefix}_stats.csv")
    total = next(row for row in stats if row["Name"] == "Aggregated")
    rows = [row for row in stats if row["Name"] != "Aggregated"]
    with open(f"{prefix}_steady.csv", newline="") as file:
        reader = csv.reader(file)
        next(reader)
        window_start = float(next(reader)[0])
        steady = [(float(at), name, float(ms)) for at, name, ms, _ in reader]
    span = (steady[-1][0] - window_start) if steady else 0
    sustained = len(steady) / span if span > 0 else 0.0
    times = {}
    for _, name, ms in steady:
        times.setdefault(name, []).append(ms)
    every = [ms for _, _, ms in steady]
    writes = sum(
        int(r["Request Count"]) for r in rows if r["Type"] == "POST" and r["Name"] != "sign in"
    )

    print(f"\n{users} users, {duration}. Requests and failures: the whole run;")
    print(f"median and p95 (ms): the steady state, the last {span:.0f} s")
    print(f"  {'endpoint':<32} {'requests':>9} {'failures':>9} {'median':>7} {'p95':>7}")
    for row in sorted(rows, key=lambda r: -int(r["Request Count"])):
        label = f"{row['Type']} {row['Name']}"
        ms = times.get(label, [])
        median = f"{percentile(ms, 0.5):.0f}" if ms else "-"
        p95 = f"{percentile(ms, 0.95):.0f}" if ms else "-"
        print(
            f"  {label:<32} {row['Request Count']:>9} {row['Failure Count']:>9} "
            f"{median:>7} {p95:>7}"
        )
    median, p95 = percentile(every, 0.5), percentile(every, 0.95)
    print(
        f"  {'overall':<32} {total['Request Count']:>9} {total['Failure Count']:>9} "
        f"{median:>7.0f} {p95:>7.0f}"
    )
    print(
        f"  requests/s: {sustained:.1f} sustained (the last {span:.0f} s, all users signed in), "
        f"{float(total['Requests/s']):.1f} over the whole run with the sign-ins; "
        f"writes {writes} ({100 * writes / max(int(total['Request Count']), 1):.1f}%)"
    )
    for failure in read_rows(f"{prefix}_failures.csv"):
        what = f"{failure['Method']} {failure['Name']}"
        print(f"  FAILED {failure['Occurrences']}x {what}: {failure['Error']}")
    return {
        "users": users,
        "requests": int(total["Request Count"]),
        "failures": int(total["Failure Count"]),
        "sustained": sustained,
        "median": median,
        "p95": p95,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="60", help="simulated users; a list runs each")
    parser.add_argument(
        "--spawn-rate",
        type=float,
        default=3,
        help="users started a second; each sign-in costs about 0.45 s of CPU (PBKDF2)",
    )
    parser.add_argument("--duration", default="60s", help="each run's length (locust -t)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument(
        "--skip-prepare", action="store_true", help="database already migrated and seeded"
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.users.split(",")]
    OUT.mkdir(parents=True, exist_ok=True)

    port = free_port()
    env = server_env(port)
    if not args.skip_prepare:
        prepare(env)
    url = f"http://127.0.0.1:{port}"
    print(f"== gunicorn, {args.workers} workers, DEBUG off, on {url}", flush=True)
    results = []
    for users in counts:
        seed(env)
        server = start_server(env, port, args.workers)
        try:
            spawn_rate = args.spawn_rate
            # Locust and gunicorn share the cores: anything else running skews the figures.
            print(
                f"== locust: {users} users ({spawn_rate:g} a second), {args.duration}; "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
                flush=True,
            )
            meter = CpuMeter(server.pid, urlparse(env["DATABASE_URL"]).path.lstrip("/"))
            meter.start()
            started, before = time.monotonic(), children_cpu()
            prefix, code = run_locust(url, users, spawn_rate, args.duration, env)
            wall = time.monotonic() - started
            locust_cpu = children_cpu() - before  # counted once locust has exited
            used = meter.stop()
        finally:
            stop_server(server)
        result = summary(prefix, users, args.duration)
        results.append(result)
        ours = used["gunicorn"] + used["postgres"] + locust_cpu
        print(
            f"  CPU over {wall:.0f} s on {os.cpu_count()} cores: "
            f"gunicorn {used['gunicorn']:.0f} s, PostgreSQL {used['postgres']:.0f} s, "
            f"locust {locust_cpu:.0f} s: "
            f"{1000 * ours / max(result['requests'], 1):.0f} ms a request with the sign-ins; "
            f"anything else running had the rest"
        )
        if code not in (0, 1):  # 1 means some requests failed; anything else broke
            raise SystemExit(f"locust exited {code}; see {OUT}/locust-u{users}.log")

    if len(results) > 1:
        print("\nusers  requests  failures  sustained req/s  median ms  p95 ms")
        for r in results:
            print(
                f"{r['users']:>5} {r['requests']:>9} {r['failures']:>9} {r['sustained']:>16.1f} "
                f"{r['median']:>10.0f} {r['p95']:>7.0f}"
            )
    failed = sum(r["failures"] for r in results)
    print(f"\n{'FAILED' if failed else 'OK'}: {failed} failed requests; CSVs and logs in {OUT}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
