"""The benchmark script keeps working (tiny sizes; timings are reported, never asserted)."""

import json
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).parents[1] / "benchmarks" / "run.py"


def test_benchmark_script_runs_every_workload_at_tiny_size(tmp_path):
    subprocess.run(
        [sys.executable, str(BENCHMARK), "--size", "tiny", "--rounds", "1", "--out-dir", str(tmp_path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads((tmp_path / "results-tiny.json").read_text())
    assert set(report["results"]) == {
        "binary",
        "multinomial",
        "small",
        "predict",
        "adam",
        "memory",
        "multilabel",
        "multilabel_mlp",
        "sparse",
        "l1",
    }
    for name, result in report["results"].items():
        assert result["ratio"] > 0, name
    assert report["results"]["binary"]["log_loss_diff"] < 0.05
    assert {"torch", "sklearn", "cpu", "blas"} <= set(report["machine"])
    table = (tmp_path / "results-tiny.md").read_text()
    assert table.startswith("| workload |") and "Machine:" in table
