"""The throughput docs/scaling.md reports: the cluster test's load (driver.py) against 1, 2
and 3 web nodes behind HAProxy, each node a network namespace with gunicorn (2 workers) and
a Celery worker, on this one machine (make cluster-throughput, as root).

    python -m tests.cluster.throughput            # 1, 2 and 3 nodes, 30 s each
    python -m tests.cluster.throughput --nodes 2 --seconds 60
"""

import argparse
import os
import time

from tests.cluster.driver import Load
from tests.cluster.harness import Cluster

WARM_UP_SECONDS = 5


def measure(nodes, seconds, readers, writers):
    with Cluster(nodes=nodes) as cluster:
        cpu_before = os.times()
        with Load(cluster.url, cluster.seed, writers=writers, readers=readers) as load:
            time.sleep(WARM_UP_SECONDS)
            start = time.monotonic()
            time.sleep(seconds)
            end = time.monotonic()
        used = os.times()
        tally = load.tally
        return {
            "nodes": nodes,
            "rate": tally.rate(start, end),
            "failures": len(tally.failures),
            "complaints": len(tally.created),
            "load": os.getloadavg()[0],
            "driver_cpu": (used.user - cpu_before.user) + (used.system - cpu_before.system),
        }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="1,2,3", help="web node counts, one run each")
    parser.add_argument("--seconds", type=int, default=30, help="measured seconds per run")
    parser.add_argument("--readers", type=int, default=6, help="managers reading, no pause")
    parser.add_argument("--writers", type=int, default=2, help="API clients logging complaints")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; {args.readers} readers and {args.writers} writers")
    print("nodes  requests/s  failures  complaints logged  load average  driver CPU s")
    for nodes in (int(n) for n in args.nodes.split(",")):
        result = measure(nodes, args.seconds, args.readers, args.writers)
        print(
            f"{result['nodes']:>5} {result['rate']:>11.1f} {result['failures']:>9} "
            f"{result['complaints']:>18} {result['load']:>13.1f} {result['driver_cpu']:>13.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
