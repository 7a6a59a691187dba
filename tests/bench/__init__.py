"""The scale benchmark behind `make bench` (`python -m tests.bench`): a realistic table of
complaints in a database of its own, and the server time and query count of the pages and
jobs that must stay fast at scale.

    run.py           the command: options, the bench database, the run, the printed table
    dataset.py       load(): staff, managed lists and `size` complaints written with COPY
    generator.py     the complaint rows, as the services would have written them
    lists.py         the words they are made of
    tables.py        the tables written with binary COPY
    measurements.py  MEASUREMENTS: the rows of the table, each with its target
    timing.py        warm-up runs, timed samples and the queries of one row
    report.py        the table, var/bench/results.json and the plans of rows over target
"""
