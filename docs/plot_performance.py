"""Draw the shapes benchmark (benchmarks/shapes_results.json) for docs/performance.rst, at docs build time.

One panel per thread count: for each workload, torchlogit's time (its faster solver)
divided by the time of the fastest contender whose objective gap is within 10x of
ours; bars left of 1 are workloads we win.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import torchlogit


def results_path():
    """The benchmark's JSON, next to the torchlogit sources (the docs build may run on a copy of docs/)."""
    for root in (Path(torchlogit.__file__).parents[1], Path.cwd().parent):  # the plot directive runs in docs/
        for name in ("shapes_results.json", "shapes_results-quick.json"):
            path = root / "benchmarks" / name
            if path.exists():
                return path
    raise FileNotFoundError("benchmarks/shapes_results.json not found: run benchmarks/shapes.py")


def verdict(workload, threads):
    fits = [f for f in workload["fits"] if f["threads"] == threads]
    ours = min((f for f in fits if f["contender"].startswith("torchlogit")), key=lambda f: f["time"])
    bound = max(10 * ours["gap"], 1e-8)
    others = [f for f in fits if not f["contender"].startswith("torchlogit") and f["gap"] <= bound]
    return ours, (min(others, key=lambda f: f["time"]) if others else None)


report = json.loads(results_path().read_text())
threads = report["threads"]
workloads = report["workloads"]
fig, axes = plt.subplots(1, len(threads), figsize=(8 * len(threads), 0.45 * len(workloads) + 1.5), squeeze=False)
for ax, n_threads in zip(axes[0], threads, strict=True):
    labels, ratios, colours = [], [], []
    for w in workloads:
        ours, rival = verdict(w, n_threads)
        if rival is None:
            continue
        ratio = ours["time"] / rival["time"]
        labels.append(f"{w['name']} [{w['penalty']}]\nvs {rival['contender']}")
        ratios.append(ratio)
        colours.append("tab:green" if ratio <= 1 else "tab:red")
    y = np.arange(len(labels))
    ax.barh(y, ratios, color=colours)
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("torchlogit time / fastest comparable contender (log; < 1: torchlogit wins)")
    ax.set_title(f"{n_threads} thread(s), {report['mode']} run")
machine = report["machine"]
fig.suptitle(f"{machine['cpu']}, {machine['cores']} cores; torch {machine['torch']}, scikit-learn {machine['sklearn']}")
fig.tight_layout()
