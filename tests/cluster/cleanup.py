"""Remove what cluster test runs left behind (make test-cluster's trap runs this): the
namespaces, processes, PostgreSQL clusters and temporary directories written down in
var/cluster/run-<pid>.json by runs whose process has ended."""

import json
import os

from tests.cluster.harness import RECORDS, release


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def main():
    for path in sorted(RECORDS.glob("run-*.json")):
        if alive(int(path.stem.removeprefix("run-"))):
            continue  # another run, still going
        release(json.loads(path.read_text()))
        path.unlink()
        print(f"cleaned up after {path.name}")


if __name__ == "__main__":
    main()
