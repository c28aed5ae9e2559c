"""The plumbing the benchmark scripts share (``benchmarks/_common.py``)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from pathlib import Path

import pytest

COMMON = Path(__file__).resolve().parents[1] / "benchmarks" / "_common.py"


@pytest.fixture(scope="module")
def common():
    spec = importlib.util.spec_from_file_location("_benchmarks_common", COMMON)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_provenance_block(common) -> None:
    meta = common.provenance()
    assert list(meta) == ["date", "machine", "commit", "versions"]
    assert meta["commit"] == meta["versions"]["git_commit"]
    assert meta["machine"].endswith(" cores)")
    assert common.provenance("1 torch thread per fit, 2 at once")["machine"].endswith(
        ", 1 torch thread per fit, 2 at once)")
    json.dumps(meta)


def test_stopwatch_counts_wall_and_cpu(common) -> None:
    clock = common.Stopwatch()
    time.sleep(0.01)
    times = clock.times()
    assert list(times) == ["wall_s", "cpu_s"]
    assert times["wall_s"] >= 0.01
    assert times["cpu_s"] >= 0.0
    assert clock.children_cpu_s >= 0.0


def test_write_results_shape_and_args(common, tmp_path: Path) -> None:
    args = argparse.Namespace(out=tmp_path / "x.json", seeds=[0, 1])
    meta = {"args": common.jsonable_args(args)}
    out = common.write_results(tmp_path / "deep" / "r.json", meta, [{"a": 1.5}], [{"b": 2}])
    data = json.loads(out.read_text())
    assert data == {"meta": {"args": {"out": str(tmp_path / "x.json"), "seeds": [0, 1]}},
                    "summary": [{"a": 1.5}], "runs": [{"b": 2}]}
    assert [p.name for p in out.parent.iterdir()] == ["r.json"]  # no temporary left behind


def test_update_readme_section(common, tmp_path: Path, capsys) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("head\n<!-- t:begin -->\nold\n<!-- t:end -->\ntail\n")
    assert common.update_readme_section("<!-- t:begin -->", "<!-- t:end -->", "new", readme)
    assert readme.read_text() == "head\n<!-- t:begin -->\nnew\n<!-- t:end -->\ntail\n"
    with pytest.raises(SystemExit, match="no table markers"):
        common.update_readme_section("<!-- u:begin -->", "<!-- u:end -->", "x", readme)
    assert not common.update_readme_section("<!-- u:begin -->", "<!-- u:end -->", "x", readme,
                                            missing_ok=True)
    assert "not updated" in capsys.readouterr().out
