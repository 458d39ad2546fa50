#!/usr/bin/env python3
"""The Python half of scripts/bench-python: one whole step, as a user would run it.

  bench_python.py score MODEL DATA OUT            read DATA (Parquet) with pyarrow, score it,
                                                  write id + propensity to OUT (Parquet)
  bench_python.py explain MODEL DATA OUT TOP      the same with Model.explain's columns

Interpreter start, imports, reading and writing are included, as they are in the CLI's
timing (`qualify score --data DATA --out OUT`)."""

import sys

import pyarrow as pa
import pyarrow.parquet as pq

import qualify


def main(argv):
    what, model_path, data, out = argv[:4]
    model = qualify.Model.load(model_path)
    table = pq.read_table(data)
    if what == "score":
        scores = model.score(table)
        pq.write_table(pa.table({"id": table.column("id"), "propensity": scores}), out)
    elif what == "explain":
        pq.write_table(model.explain(table, top=int(argv[4])), out)
    else:
        raise SystemExit(f"unknown step {what!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
