"""The chaos run (``bench/chaos.py``) in a short form: workers killed with SIGKILL while
pages are being sent. What must hold whatever the timing: no page lost, no deadlock or
traceback logged, every delivery settled. Duplicates and lateness are printed for the
record (they depend on where the kills land; the full run's figures are in
docs/benchmarks.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_killed_workers_lose_no_page(server_url: str) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.chaos",
            "--alerts",
            "60",
            "--seconds",
            "6",
            "--kills",
            "2",
            "--settle",
            "90",
            "--json",
        ],
        cwd=ROOT,
        env={**os.environ, "TOCSIN_BENCH_DATABASE_URL": server_url},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    print("chaos (short):", figures)
    assert figures["pages_expected"] > 0
    assert figures["lost"] == 0, figures
    assert figures["deadlocks_logged"] == 0, figures
    assert figures["tracebacks_logged"] == 0, figures
    assert figures["unsettled_deliveries"] == {}, figures
