"""Several Redress hosts on this one machine, for the cluster test (make test-cluster).

Each node is a network namespace joined to this one by a veth pair, running its own
gunicorn and Celery worker; node 1 also runs the one beat. In this namespace, on ports of
their own: a PostgreSQL primary and a streaming standby made from it with pg_basebackup
(both in a temporary directory, run as the postgres user: never the machine's own cluster),
PgBouncer in transaction mode in front of both, Redis, an SMTP server counting what it
receives, and HAProxy in front of the nodes. Needs root (namespaces), haproxy, pgbouncer,
iproute2, redis-server and PostgreSQL's server binaries.

Everything made is written down as it is made (var/cluster/run-<pid>.json), so that
`python -m tests.cluster.cleanup` removes it even when the Python process that made it was
killed; `Cluster.close()` removes it in the ordinary case.
"""

import contextlib
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]
RECORDS = ROOT / "var" / "cluster"
BIN = Path(sys.executable).parent
PYTHON = sys.executable
WEB_PORT = 8000
# 10.<SUBNET>.<node>.0/24: the node is .2, this namespace's end of its veth .1.
SUBNET = 200 + os.getpid() % 50
STARTUP_SECONDS = 60


def pg_bin(name):
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
    if not versions:
        raise RuntimeError("PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) are missing")
    return str(Path(versions[-1]) / name)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(command, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if done.returncode != 0:
        shown = " ".join(str(part) for part in command)
        raise RuntimeError(f"{shown} exited {done.returncode}:\n{done.stderr}{done.stdout}")
    return done


def wait_for(condition, what, timeout=STARTUP_SECONDS, interval=0.2):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout} s")
        time.sleep(interval)


def answers(url):
    # The host name the balancer sends, the one in ALLOWED_HOSTS.
    request = urllib.request.Request(url, headers={"Host": "127.0.0.1"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310  (our nodes)
            return response.status == 200
    except OSError:
        return False


def stop_group(process, grace=10):
    """Stop a process started in a session of its own, with everything it started."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@dataclass
class Counted:
    """What the SMTP server received, by Message-ID."""

    by_message_id: dict = field(default_factory=dict)

    async def handle_DATA(self, server, session, envelope):
        message_id = ""
        for line in envelope.content.decode(errors="replace").splitlines():
            if not line:
                break  # the end of the headers
            if line.lower().startswith("message-id:"):
                message_id = line.split(":", 1)[1].strip()
        self.by_message_id[message_id] = self.by_message_id.get(message_id, 0) + 1
        return "250 Message accepted for delivery"


@dataclass
class Node:
    number: int
    namespace: str
    web: subprocess.Popen = None
    worker: subprocess.Popen = None
    beat: subprocess.Popen = None

    @property
    def address(self):
        return f"10.{SUBNET}.{self.number}.2"

    @property
    def gateway(self):
        """This namespace's end of the node's veth: where the node reaches the services."""
        return f"10.{SUBNET}.{self.number}.1"

    @property
    def url(self):
        return f"http://{self.address}:{WEB_PORT}"


class Cluster:
    """`with Cluster(nodes=3) as cluster:` starts everything; leaving the block stops it."""

    def __init__(self, nodes=3, web_workers=2, env=None):
        self.size = nodes
        self.web_workers = web_workers
        self.extra_env = env or {}
        self.nodes = []
        self.services = {}  # name: Popen
        self.pg_data = []
        self.smtp = Counted()
        self.controllers = []
        self.secret_key = secrets.token_urlsafe(50)
        self.record_path = RECORDS / f"run-{os.getpid()}.json"
        self.record = {"pids": [], "namespaces": [], "pg_data": [], "tmp": None}

    # Bookkeeping ---------------------------------------------------------------------------

    def remember(self, kind, value):
        self.record[kind] = value if kind == "tmp" else [*self.record[kind], value]
        RECORDS.mkdir(parents=True, exist_ok=True)
        self.record_path.write_text(json.dumps(self.record))

    def spawn(self, name, command, *, env=None, user=None):
        log = open(self.tmp / "logs" / f"{name}.log", "w")  # noqa: SIM115  (open while it runs)
        process = subprocess.Popen(  # noqa: S603  (our own command lines)
            command,
            cwd=ROOT,
            env=env or os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=user,
            group=user,
        )
        self.remember("pids", process.pid)
        return process

    def logs(self, lines=15):
        """The end of every process's log, for a failure's report."""
        shown = []
        for path in sorted((self.tmp / "logs").glob("*.log")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            shown.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(shown)

    # Start ---------------------------------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            if hasattr(self, "tmp"):
                print(self.logs(), file=sys.stderr)
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="redress-cluster-"))
        self.remember("tmp", str(self.tmp))
        self.tmp.chmod(0o755)  # PostgreSQL and PgBouncer run as postgres
        for folder in ("logs", "run", "pg", "shared/attachments"):
            (self.tmp / folder).mkdir(parents=True)
        for folder in ("logs", "run", "pg"):
            shutil.chown(self.tmp / folder, "postgres", "postgres")
        self.ports = {name: free_port() for name in ("primary", "standby", "pgbouncer", "redis")}
        self.ports |= {"smtp": free_port(), "haproxy": free_port()}
        self.nodes = [Node(n, f"redress-cl-{os.getpid()}-{n}") for n in range(1, self.size + 1)]
        for node in self.nodes:
            self.make_namespace(node)
        self.start_postgres()
        self.start_pgbouncer()
        self.start_redis()
        self.start_smtp()
        self.prepare_database()
        for node in self.nodes:
            self.start_node(node, beat=node.number == 1)
        self.start_haproxy()

    def make_namespace(self, node):
        # Interface names: at most 15 characters, unique on the machine while both ends are
        # made here.
        host_end = f"rc{os.getpid() % 100000}h{node.number}"
        node_end = f"rc{os.getpid() % 100000}n{node.number}"
        run(["ip", "netns", "add", node.namespace])
        self.remember("namespaces", node.namespace)
        run(["ip", "link", "add", host_end, "type", "veth", "peer", "name", node_end])
        run(["ip", "link", "set", node_end, "netns", node.namespace])
        run(["ip", "addr", "add", f"{node.gateway}/24", "dev", host_end])
        run(["ip", "link", "set", host_end, "up"])
        inside = ["ip", "netns", "exec", node.namespace]
        run([*inside, "ip", "addr", "add", f"{node.address}/24", "dev", node_end])
        run([*inside, "ip", "link", "set", node_end, "up"])
        run([*inside, "ip", "link", "set", "lo", "up"])

    def listen_addresses(self):
        return ["127.0.0.1", *(node.gateway for node in self.nodes)]

    def pg(self, command):
        return run(command, user="postgres", group="postgres", cwd=self.tmp)

    def start_postgres(self):
        primary, standby = self.tmp / "pg" / "primary", self.tmp / "pg" / "standby"
        self.pg([pg_bin("initdb"), "-D", primary, "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        self.remember("pg_data", str(primary))
        with open(primary / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {self.ports['primary']}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.tmp / 'run'}'\n"
                "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
                # A test's database: speed over surviving a power cut.
                "fsync = off\nfull_page_writes = off\n"
                # Django then needs no SET TIME ZONE, which PgBouncer's transaction mode would
                # leave on whichever server connection ran it.
                "timezone = 'UTC'\n"
                "max_connections = 200\n"
            )
        self.pg(
            [pg_bin("pg_ctl"), "-D", primary, "-l", self.tmp / "logs/primary.log", "-w", "start"]
        )
        self.pg_data.append(primary)
        self.pg(
            [
                pg_bin("pg_basebackup"),
                *("-h", "127.0.0.1", "-p", str(self.ports["primary"]), "-U", "postgres"),
                *("-D", standby, "-R", "-X", "stream", "-c", "fast"),
            ]
        )
        self.remember("pg_data", str(standby))
        with open(standby / "postgresql.conf", "a") as conf:
            conf.write(f"port = {self.ports['standby']}\n")
        self.pg(
            [pg_bin("pg_ctl"), "-D", standby, "-l", self.tmp / "logs/standby.log", "-w", "start"]
        )
        self.pg_data.append(standby)

    def sql(self, which, query, params=(), database="postgres"):
        import psycopg

        url = f"postgres://postgres@127.0.0.1:{self.ports[which]}/{database}"
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
            cursor = connection.execute(query, params)
            return cursor.fetchall() if cursor.description else None

    def start_pgbouncer(self):
        folder = self.tmp / "pgbouncer"
        folder.mkdir()
        (folder / "users.txt").write_text('"postgres" ""\n')
        (folder / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"redress = host=127.0.0.1 port={self.ports['primary']} dbname=redress\n"
            f"redress_replica = host=127.0.0.1 port={self.ports['standby']} dbname=redress\n"
            "[pgbouncer]\n"
            f"listen_addr = {','.join(self.listen_addresses())}\n"
            f"listen_port = {self.ports['pgbouncer']}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {folder / 'users.txt'}\n"
            "pool_mode = transaction\n"
            "max_client_conn = 1000\n"
            "default_pool_size = 20\n"
            "ignore_startup_parameters = extra_float_digits\n"
            "admin_users = postgres\n"
        )
        shutil.chown(folder, "postgres", "postgres")
        self.services["pgbouncer"] = self.spawn(
            "pgbouncer", ["pgbouncer", str(folder / "pgbouncer.ini")], user="postgres"
        )
        wait_for(lambda: self.port_open(self.ports["pgbouncer"]), "PgBouncer listening")

    def start_redis(self):
        self.services["redis"] = self.spawn(
            "redis",
            [
                "redis-server",
                *("--port", str(self.ports["redis"])),
                *("--bind", " ".join(self.listen_addresses())),
                *("--save", "", "--appendonly", "no", "--dir", str(self.tmp)),
                # Bound to loopback and the nodes' links only, so no password is needed.
                *("--protected-mode", "no"),
            ],
        )
        wait_for(lambda: self.port_open(self.ports["redis"]), "Redis listening")

    def start_smtp(self):
        for address in self.listen_addresses():
            controller = Controller(self.smtp, hostname=address, port=self.ports["smtp"])
            controller.start()
            self.controllers.append(controller)

    @staticmethod
    def port_open(port, host="127.0.0.1"):
        with socket.socket() as probe:
            probe.settimeout(1)
            return probe.connect_ex((host, port)) == 0

    def env(self, node=None):
        """The environment every node shares; `node` names the services by its gateway."""
        services = node.gateway if node else "127.0.0.1"
        bouncer = f"postgres://postgres@{services}:{self.ports['pgbouncer']}"
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))},
            "DATABASE_URL": f"{bouncer}/redress",
            "DATABASE_REPLICA_URL": f"{bouncer}/redress_replica",
            "DB_BEHIND_PGBOUNCER": "1",
            "REDIS_URL": f"redis://{services}:{self.ports['redis']}/0",
            "CELERY_BROKER_URL": f"redis://{services}:{self.ports['redis']}/0",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": services,
            "EMAIL_PORT": str(self.ports["smtp"]),
            "DEBUG": "0",
            # The managers here sign in with a password alone: two-step sign-in is another test's.
            "MFA_ENFORCED": "0",
            "SECRET_KEY": self.secret_key,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": f"http://127.0.0.1:{self.ports['haproxy']}",
            # Attachments on a path every node shares (a mounted volume in production).
            "ATTACHMENT_ROOT": str(self.tmp / "shared" / "attachments"),
            "VAR_DIR": str(self.tmp / f"node{node.number if node else 0}"),
            "API_THROTTLE_RATE": "100000/min",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    def prepare_database(self):
        self.sql("primary", "CREATE DATABASE redress")
        # Straight to the primary, as a deploy would migrate.
        env = {**self.env(), "DATABASE_URL": self.primary_url}
        env.pop("DATABASE_REPLICA_URL")
        run([PYTHON, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env)
        run([PYTHON, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env)
        seeded = run([PYTHON, str(Path(__file__).with_name("seed.py"))], cwd=ROOT, env=env)
        self.seed = json.loads(seeded.stdout)

    @property
    def primary_url(self):
        return f"postgres://postgres@127.0.0.1:{self.ports['primary']}/redress"

    def start_node(self, node, beat=False):
        inside = ["ip", "netns", "exec", node.namespace]
        env = self.env(node)
        name = f"node{node.number}"
        node.web = self.spawn(
            f"{name}-web",
            [
                *inside,
                *(PYTHON, "-m", "gunicorn", "config.wsgi:application"),
                *("--bind", f"{node.address}:{WEB_PORT}", "--workers", str(self.web_workers)),
                *("--log-level", "warning"),
            ],
            env=env,
        )
        node.worker = self.spawn(
            f"{name}-worker",
            [
                *inside,
                *(str(BIN / "celery"), "--app", "config", "worker"),
                *("--concurrency", "1", "--hostname", f"worker@{name}", "--loglevel", "INFO"),
                "--without-gossip",
                "--without-mingle",
            ],
            env=env,
        )
        if beat:
            node.beat = self.spawn(
                f"{name}-beat",
                [
                    *inside,
                    *(str(BIN / "celery"), "--app", "config", "beat", "--loglevel", "INFO"),
                    *("--schedule", str(self.tmp / "beat-schedule")),
                ],
                env=env,
            )
        wait_for(lambda: answers(f"{node.url}/accounts/login/"), f"{name}'s gunicorn answering")

    def start_haproxy(self):
        servers = "\n".join(
            f"    server node{node.number} {node.address}:{WEB_PORT} check" for node in self.nodes
        )
        config = self.tmp / "haproxy.cfg"
        config.write_text(
            f"""global
    maxconn 2000
    stats socket {self.tmp / "haproxy.sock"} mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout check 2s
    # A connection refused, or a node that closed without answering: try another node.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout
    # A request is retried only from what HAProxy holds of it: without this, a POST's body
    # (sent after its headers) is still on its way when the node dies, so it cannot be
    # resent, and HAProxy closes a kept-alive client connection without an answer.
    option http-buffer-request

frontend web
    bind 127.0.0.1:{self.ports["haproxy"]}
    default_backend nodes

backend nodes
    balance roundrobin
    # A POST the node may have acted on is retried only when the client made it safe to:
    # the API's Idempotency-Key. A refused connection is always retried (nothing was sent).
    http-request disable-l7-retry if METH_POST !{{ req.hdr(Idempotency-Key) -m found }}
    # The sign-in page: this node's gunicorn and Django answer. Not /health/, which answers
    # 503 on every node at once when beat or the mail server is down
    # (docs/operations-health.md), and would empty the pool.
    option httpchk
    http-check send meth GET uri /accounts/login/ ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
    default-server inter 1s fall 2 rise 2
{servers}
"""
        )
        run(["haproxy", "-c", "-q", "-f", str(config)])
        self.services["haproxy"] = self.spawn("haproxy", ["haproxy", "-db", "-f", str(config)])
        wait_for(lambda: answers(f"{self.url}/accounts/login/"), "HAProxy answering")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.ports['haproxy']}"

    def haproxy_servers(self):
        """{node name: status} as HAProxy's health checks see them."""
        with socket.socket(socket.AF_UNIX) as admin:
            admin.connect(str(self.tmp / "haproxy.sock"))
            admin.sendall(b"show stat\n")
            data = b""
            while chunk := admin.recv(65536):
                data += chunk
        rows = [line.split(",") for line in data.decode().splitlines() if line.startswith("nodes,")]
        return {row[1]: row[17] for row in rows if row[1].startswith("node")}

    # Faults --------------------------------------------------------------------------------

    @staticmethod
    def kill(process):
        """As a machine that dies would: no warning, no clean shutdown."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    # Stop ----------------------------------------------------------------------------------

    def close(self):
        for node in self.nodes:
            for process in (node.beat, node.worker, node.web):
                if process is not None:
                    stop_group(process)
        for process in self.services.values():
            stop_group(process)
        for controller in self.controllers:
            with contextlib.suppress(Exception):
                controller.stop()
        release(self.record)
        self.record_path.unlink(missing_ok=True)


def release(record):
    """Remove what a run made, whether or not its processes are still running: processes
    left in its namespaces, the namespaces (their veth pairs go with them), its PostgreSQL
    clusters and its temporary directory."""
    for pid in record["pids"]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    for namespace in record["namespaces"]:
        left = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True)
        for pid in left.stdout.split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        subprocess.run(["ip", "netns", "delete", namespace], capture_output=True)
    for data in record["pg_data"]:
        if Path(data, "postmaster.pid").exists():
            subprocess.run(
                [pg_bin("pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"],
                capture_output=True,
                user="postgres",
                group="postgres",
                cwd="/",
            )
    if record["tmp"]:
        shutil.rmtree(record["tmp"], ignore_errors=True)
