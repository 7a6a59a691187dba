"""`python -m tests.bench [--size N] [--reuse] [--only TEXT] [--samples N] [--no-explain]`."""

import os
import sys

import django


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    # Imported only now: the harness imports the models, which need the app registry.
    from tests.bench import run

    return run.main()


if __name__ == "__main__":
    sys.exit(main())
