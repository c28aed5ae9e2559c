"""The acceptance probes of the reliability work, each in a fresh process, timed and measured.

* ``unwritable-out``: ``symmetrykit discover`` into a read-only folder must fail before any work
  (one line, exit status != 0). Root ignores file permissions, so as root this probe is skipped
  with a note (run the script as a normal user).
* ``lens-401`` / ``lens-5001``: SymmetryLens with default settings on 5,000 × 401 samples, and with
  ``batch_size=10_002`` on 10,002 × 5,001 samples, must be warned about or refused with the
  estimate before any heavy work. Reported: the seconds from the ``fit`` call to the warning or
  refusal (library imported), the whole process's wall time, and its peak memory.

Usage (from the repository root)::

    python benchmarks/reliability_probes.py [--out benchmarks/results/reliability_probes.json]
"""

from __future__ import annotations

import argparse
import os
import resource
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import RESULTS, provenance, write_json

_LENS_PROBE = r"""
import json, sys, time, warnings
import numpy as np
import symmetrykit as sk
from symmetrykit._validation import CostError, CostWarning
n, d, batch = {sizes}
X = np.random.default_rng(0).normal(size=(n, d))
lens = sk.SymmetryLens(progress="none", **({{}} if batch is None else {{"batch_size": batch}}))
start = time.perf_counter()
outcome, message = "fitted", ""
with warnings.catch_warnings():
    warnings.simplefilter("error", CostWarning)
    try:
        lens.fit(X)
    except (CostWarning, CostError) as caught:
        outcome, message = type(caught).__name__, str(caught)
print(json.dumps({{"outcome": outcome, "fit_call_to_outcome_s": time.perf_counter() - start,
                  "message": message}}))
"""


def _child_peak_rss_mib() -> float:
    # ru_maxrss of the children waited for so far, in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _run(command: list[str], **kwargs) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    return completed, time.perf_counter() - start


def probe_unwritable_out() -> dict:
    if os.geteuid() == 0:
        return {"probe": "unwritable-out", "skipped": "root ignores file permissions; run the "
                "script as a normal user"}
    with tempfile.TemporaryDirectory() as tmp:
        locked = Path(tmp) / "read-only"
        locked.mkdir()
        locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
        try:
            completed, wall = _run([sys.executable, "-m", "symmetrykit", "discover", "--data",
                                    "gaussian-translation", "--dim", "7", "--out",
                                    str(locked / "run")])
        finally:
            locked.chmod(stat.S_IRWXU)
    lines = completed.stderr.strip().splitlines()
    return {"probe": "unwritable-out", "exit_status": completed.returncode, "wall_s": wall,
            "stderr_lines": len(lines), "stderr": completed.stderr.strip(),
            "ok": completed.returncode != 0 and len(lines) == 1 and wall < 5.0}


def probe_lens(name: str, sizes: tuple[int, int, int | None]) -> dict:
    import json

    completed, wall = _run([sys.executable, "-c", _LENS_PROBE.format(sizes=sizes)])
    if completed.returncode != 0:
        return {"probe": name, "error": completed.stderr.strip()[-2000:]}
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return {"probe": name, "n_samples": sizes[0], "dim": sizes[1], "batch_size": sizes[2],
            **result, "process_wall_s": wall, "peak_rss_mib_so_far": _child_peak_rss_mib(),
            "ok": result["outcome"] != "fitted" and result["fit_call_to_outcome_s"] < 2.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS / "reliability_probes.json")
    args = parser.parse_args()
    rows = [probe_unwritable_out(),
            probe_lens("lens-401", (5_000, 401, None)),
            probe_lens("lens-5001", (10_002, 5_001, 10_002))]
    for row in rows:
        shown = {k: v for k, v in row.items() if k not in ("message", "stderr")}
        print(shown)
    path = write_json(args.out, {"meta": provenance(), "runs": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
