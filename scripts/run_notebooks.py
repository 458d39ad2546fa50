#!/usr/bin/env python3
"""Executes the notebooks in notebooks/ with nbclient, after checking they carry no outputs.

Each notebook runs in a fresh kernel from notebooks/, with QUALIFY_BIN (the qualify binary),
QUALIFY_ROOT (the repository) and QUALIFY_OUT (a new temporary directory, removed afterwards)
in its environment. Committed notebooks must have no outputs and no execution counts:
`--strip` removes them in place. Executed copies are not written back.

Notebook 3 (the HTTP service client) starts `qualify serve` itself on a free port.

Usage: python scripts/run_notebooks.py [--strip] [NOTEBOOK ...]   (default: all, in order)
"""

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def has_outputs(nb):
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]


def strip(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.write(nb, path)


def main(args):
    do_strip = "--strip" in args
    names = [a for a in args if a != "--strip"]
    paths = [Path(n).resolve() for n in names] or sorted(NOTEBOOKS.glob("*.ipynb"))
    if do_strip:
        for path in paths:
            strip(path)
            print(f"stripped {path.relative_to(ROOT)}")
        return 0
    dirty = {p: has_outputs(nbformat.read(p, as_version=4)) for p in paths}
    dirty = {p: cells for p, cells in dirty.items() if cells}
    if dirty:
        for p, cells in dirty.items():
            print(f"{p.relative_to(ROOT)}: code cells {cells} have outputs; commit notebooks "
                  f"without them (python scripts/run_notebooks.py --strip)")
        return 1
    binary = os.environ.get("QUALIFY_BIN")
    if not binary or not Path(binary).is_file():
        print(f"QUALIFY_BIN must name the qualify binary (got {binary!r})")
        return 1
    failed = []
    for path in paths:
        name = path.name
        nb = nbformat.read(path, as_version=4)
        start = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="qualify-nb-") as out:
            os.environ.update(QUALIFY_BIN=str(Path(binary).resolve()), QUALIFY_ROOT=str(ROOT),
                              QUALIFY_OUT=out)
            try:
                NotebookClient(nb, timeout=900, kernel_name="python3",
                               resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
            except Exception as e:  # a failed cell: report it and go on to the next notebook
                failed.append(name)
                print(f"FAILED {path.relative_to(ROOT)}:\n{str(e)[-3000:]}")
                continue
        print(f"ran {path.relative_to(ROOT)} in {time.monotonic() - start:.0f} s")
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
