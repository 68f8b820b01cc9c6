"""The figures of docs/performance.rst, drawn at docs build time from the benchmarks' JSON.

One function per figure, each named in a ``.. plot:: plot_performance.py NAME`` directive:

* :func:`shapes`: ``benchmarks/shapes_results.json``; one panel per thread count: for each
  workload, torchlogit's time (its faster solver) divided by the time of the fastest
  contender whose objective gap is within 10x of ours; bars left of 1 are workloads we win.
* :func:`favourable`: ``benchmarks/results.json``, the workloads chosen in torchlogit's
  favour: torchlogit's time over scikit-learn's, per workload.
* :func:`gpu`: ``benchmarks/gpu_results.json`` (written by ``benchmarks/gpu.py`` on a CUDA
  machine): per workload, every contender's best time on a log scale, the device named.
  Without GPU rows it draws no bars and says that no GPU run has been made.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import torchlogit


def results_path(*names):
    """The first of ``names`` found in benchmarks/, next to the torchlogit sources (or None)."""
    for root in (Path(torchlogit.__file__).parents[1], Path.cwd().parent):  # the plot directive runs in docs/
        for name in names:
            path = root / "benchmarks" / name
            if path.exists():
                return path
    return None


def _load(*names):
    path = results_path(*names)
    if path is None:
        raise FileNotFoundError(f"benchmarks/{names[0]} not found: run the benchmark that writes it")
    return json.loads(path.read_text())


def _ratio_bars(ax, labels, ratios, xlabel):
    y = np.arange(len(labels))
    ax.barh(y, ratios, color=["tab:green" if r <= 1 else "tab:red" for r in ratios])
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)


def verdict(workload, threads):
    fits = [f for f in workload["fits"] if f["threads"] == threads]
    ours = min((f for f in fits if f["contender"].startswith("torchlogit")), key=lambda f: f["time"])
    bound = max(10 * ours["gap"], 1e-8)
    others = [f for f in fits if not f["contender"].startswith("torchlogit") and f["gap"] <= bound]
    return ours, (min(others, key=lambda f: f["time"]) if others else None)


def shapes():
    report = _load("shapes_results.json", "shapes_results-quick.json")
    threads = report["threads"]
    workloads = report["workloads"]
    # One panel under the other at the favourable figure's width: side by side, the page shrinks them
    # to half size and the workload labels become unreadable.
    fig, axes = plt.subplots(len(threads), 1, figsize=(8, len(threads) * (0.45 * len(workloads) + 1.5)), squeeze=False)
    for ax, n_threads in zip(axes[:, 0], threads, strict=True):
        labels, ratios = [], []
        for w in workloads:
            ours, rival = verdict(w, n_threads)
            if rival is None:
                continue
            labels.append(f"{w['name']} [{w['penalty']}]\nvs {rival['contender']}")
            ratios.append(ours["time"] / rival["time"])
        _ratio_bars(ax, labels, ratios, "torchlogit time / fastest comparable contender (log; < 1: torchlogit wins)")
        ax.set_title(f"{n_threads} thread(s), {report['mode']} run")
    machine = report["machine"]
    fig.suptitle(
        f"{machine['cpu']}, {machine['cores']} cores; torch {machine['torch']}, scikit-learn {machine['sklearn']}"
    )
    fig.tight_layout()


# What each favourable workload of benchmarks/run.py compares; "memory" compares peak memory, not time.
FAVOURABLE = {
    "binary": "binary x 100, vs LogisticRegression",
    "multinomial": "multinomial x 100 x 10, vs LogisticRegression",
    "small": "10 small fits x 20, vs LogisticRegression",
    "predict": "predict_proba x 100, vs LogisticRegression",
    "adam": "Adam epoch x 100, batch 1024, vs a hand-written torch loop",
    "memory": "peak memory of a fit x 100 (memory, not time)",
    "multilabel": "multi-label linear x 100 x 20, vs MultiOutputClassifier",
    "multilabel_mlp": "multi-label hidden (64,), vs MLPClassifier",
    "sparse": "sparse x 50k at 0.1%, vs LogisticRegression",
    "l1": "L1, breast cancer, vs saga",
}


def favourable():
    report = _load("results.json", "results-tiny.json")
    labels, ratios = [], []
    for key, result in report["results"].items():
        labels.append(f"{FAVOURABLE.get(key, key)} ({result['n']:,} rows)")
        ratios.append(result["ratio"])
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(labels) + 1.5))
    _ratio_bars(
        ax,
        labels,
        ratios,
        "torchlogit / scikit-learn (median of alternating rounds; CV: best times) (log; < 1: faster)",
    )
    machine = report["machine"]
    ax.set_title(
        f"Favourable workloads (benchmarks/run.py): {machine['cpu']}, {machine['cores']} cores, "
        f"device {machine.get('device', 'cpu')}",
        fontsize=9,
    )
    fig.tight_layout()


COLOURS = {"torchlogit": "tab:blue", "sklearn cpu": "tab:orange", "sklearn array-api": "tab:purple"}


def gpu():
    path = results_path("gpu_results.json")
    report = json.loads(path.read_text()) if path else None
    if report is None or report["meta"]["device"] != "cuda" or report["meta"]["tiny"]:
        fig, ax = plt.subplots(figsize=(8, 1.2))
        ax.axis("off")
        ax.text(
            0.5,
            0.5,
            "No GPU run has been made yet: benchmarks/gpu_results.json has no GPU rows.\n"
            "Run benchmarks/gpu.py on a CUDA machine to draw this figure.",
            ha="center",
            va="center",
        )
        return
    meta = report["meta"]
    workloads = list(report["workloads"])
    contenders = list(dict.fromkeys(row["contender"] for row in report["rows"]))
    fig, ax = plt.subplots(figsize=(9, 0.2 * len(workloads) * len(contenders) + 1.5))
    height = 0.8 / len(contenders)
    for i, contender in enumerate(contenders):
        times = {row["workload"]: row["best_s"] for row in report["rows"] if row["contender"] == contender}
        y = [j + i * height for j, w in enumerate(workloads) if w in times]
        ax.barh(
            y,
            [times[w] for w in workloads if w in times],
            height=height,
            label=contender,
            color=COLOURS.get(contender, "tab:gray"),
        )
    ax.set_xscale("log")
    ax.set_yticks(np.arange(len(workloads)) + 0.4 - height / 2, workloads, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("best time (s, log scale; shorter is faster)")
    ax.legend(fontsize=7)
    title = f"{meta['device_name']}; torch {meta['torch']}, scikit-learn {meta['sklearn']}"
    if meta.get("commit"):
        title += f"; torchlogit at {meta['commit']}"
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
