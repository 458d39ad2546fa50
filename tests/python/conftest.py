"""Fixtures of the Python package's tests: the repository, the `qualify` binary the tests
compare against (QUALIFY_BIN, default: the debug build `cargo test` makes) and a helper
that runs it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "leads.csv"
MODEL = ROOT / "models" / "flat"
RULES = ROOT / "rules" / "default.toml"


def qualify_bin() -> str:
    explicit = os.environ.get("QUALIFY_BIN")
    if explicit:
        return explicit
    target = os.environ.get("CARGO_TARGET_DIR", str(Path.home() / ".cache/qualify/target"))
    return str(Path(target) / "debug" / "qualify")


@pytest.fixture(scope="session")
def cli():
    """Runs `qualify ARGS...`; returns the finished process (check=False: tests look at the
    exit code and stderr themselves)."""
    binary = qualify_bin()
    if not Path(binary).is_file():
        raise RuntimeError(
            f"no qualify binary at {binary}: build it (cargo build) or set QUALIFY_BIN"
        )

    def run(*args: object, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [binary, *map(str, args)], capture_output=True, text=True, check=False
        )
        if check and done.returncode != 0:
            raise AssertionError(f"qualify {' '.join(map(str, args))} failed:\n{done.stderr}")
        return done

    return run
