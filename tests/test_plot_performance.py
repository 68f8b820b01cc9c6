"""docs/plot_performance.py draws each figure from the benchmarks' JSON, and no GPU bars without a GPU run."""

import importlib.util
import json
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib", reason="the docs extras are not installed")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).parents[1]


@pytest.fixture
def plots():
    spec = importlib.util.spec_from_file_location("plot_performance", ROOT / "docs" / "plot_performance.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    plt.close("all")


def _gpu_report(device, tiny=False):
    rows = [
        {"workload": "binary", "contender": "torchlogit", "best_s": 0.01},
        {"workload": "binary", "contender": "sklearn cpu", "best_s": 0.8},
        {"workload": "predict", "contender": "torchlogit", "best_s": 0.002},
    ]
    meta = {"device": device, "device_name": "NVIDIA Test GPU", "torch": "x", "sklearn": "y", "tiny": tiny}
    return {"meta": meta, "workloads": {"binary": {}, "predict": {}}, "rows": rows}


def test_cpu_figures_draw_one_bar_per_workload(plots):
    plots.favourable()
    ax = plt.gcf().axes[0]
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text())["results"]
    assert len(ax.patches) == len(results)
    assert sorted(p.get_width() for p in ax.patches) == pytest.approx(sorted(r["ratio"] for r in results.values()))
    assert "cores" in ax.get_title()  # the machine is named
    plots.shapes()
    assert all(ax.patches for ax in plt.gcf().axes)


@pytest.mark.parametrize("device,tiny", [("cpu", False), ("cuda", True)])
def test_gpu_figure_says_no_gpu_run_without_gpu_rows(plots, tmp_path, monkeypatch, device, tiny):
    path = tmp_path / "gpu_results.json"
    path.write_text(json.dumps(_gpu_report(device, tiny)))
    monkeypatch.setattr(plots, "results_path", lambda *names: path)
    plots.gpu()
    ax = plt.gcf().axes[0]
    assert not ax.patches and "No GPU run has been made yet" in ax.texts[0].get_text()


def test_gpu_figure_draws_every_contender_and_names_the_gpu(plots, tmp_path, monkeypatch):
    path = tmp_path / "gpu_results.json"
    path.write_text(json.dumps(_gpu_report("cuda")))
    monkeypatch.setattr(plots, "results_path", lambda *names: path)
    plots.gpu()
    ax = plt.gcf().axes[0]
    assert sorted(p.get_width() for p in ax.patches) == [0.002, 0.01, 0.8]
    assert "NVIDIA Test GPU" in ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["torchlogit", "sklearn cpu"]


def test_gpu_figure_without_any_results_file(plots, monkeypatch):
    monkeypatch.setattr(plots, "results_path", lambda *names: None)
    plots.gpu()
    assert "No GPU run" in plt.gcf().axes[0].texts[0].get_text()
