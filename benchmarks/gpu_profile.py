"""Where a device fit's time goes: cProfile (host) and torch.profiler (kernels) of one fit.

The binary workload of ``benchmarks/gpu.py`` (1M x 100 float32 at full size), fitted with
``TorchLogisticClassifier(device=...)`` from device tensors and from NumPy, after a warm-up.
For each source it prints the wall time, the data layer's steps before the first
iteration (as ``benchmarks/data_prep.py`` names them) and the functions with the most own
time; for the tensor fit also the kernels with the most device time. On a CUDA machine::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 benchmarks/gpu_profile.py --out "$OUT/profile.txt"

``--scale`` multiplies the rows; ``--device cpu`` profiles the same fit on the host.
"""

import argparse
import cProfile
import io
import pstats
import sys
import time
import warnings
from pathlib import Path

import torch
from sklearn.exceptions import ConvergenceWarning

sys.path.insert(0, str(Path(__file__).parent))
from data_prep import PREPARATION  # noqa: E402
from gpu import WORKLOADS, make_data, sync  # noqa: E402

from torchlogit import TorchLogisticClassifier  # noqa: E402


def fit(X, y, device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = TorchLogisticClassifier(device=device).fit(X, y)
    sync(device)
    return model


def profile(X, y, device, out):
    fit(X, y, device)  # warm-up: kernels, the CUDA context, caches
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    model = fit(X, y, device)
    profiler.disable()
    total = time.perf_counter() - start
    stats = pstats.Stats(profiler)
    steps = {
        step: sum(v[3] for (_, _, func), v in stats.stats.items() if func in names)
        for step, names in PREPARATION.items()
    }
    print(f"  wall {total:.4f} s, n_iter {int(model.n_iter_[0])}", file=out)
    for step, seconds in steps.items():
        print(f"  {step:>15}: {seconds:.4f} s ({seconds / total:.0%})", file=out)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
    print(text.getvalue(), file=out)


def kernels(X, y, device, out):
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        fit(X, y, device)
    key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    print(prof.key_averages().table(sort_by=key, row_limit=25), file=out)


def transfers(X, device, out, repeats=5):
    """NumPy X to the device: torch's pageable copy against torchlogit's two pinned buffers (best of ``repeats``)."""
    from torchlogit._kernels import host_to_device

    contenders = {
        "torch.from_numpy(X).to(device)": lambda: torch.from_numpy(X).to(device),
        "host_to_device (pinned, double-buffered)": lambda: host_to_device(X, device),
    }
    for name, copy in contenders.items():
        times = []
        for _ in range(repeats + 1):
            sync(device)
            start = time.perf_counter()
            copy()
            sync(device)
            times.append(time.perf_counter() - start)
        print(f"  {name}: {min(times[1:]) * 1e3:.1f} ms ({X.nbytes / 1e6:.0f} MB)", file=out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    spec = dict(WORKLOADS["binary, from device tensors"])
    spec["n"] = int(spec["n"] * args.scale)
    X, y = make_data(spec, device)
    out = io.StringIO()
    print(f"binary {spec['n']:,} x {spec['d']} float32 on {device}, torch {torch.__version__}", file=out)
    print("\n== from device tensors", file=out)
    profile(X, y, device, out)
    print("\n== from NumPy", file=out)
    profile(X.cpu().numpy(), y.cpu().numpy(), device, out)
    if device.type == "cuda":
        print("\n== host to device", file=out)
        transfers(X.cpu().numpy(), device, out)
    print("\n== kernels, from device tensors", file=out)
    try:
        kernels(X, y, device, out)
    except Exception as exc:  # the profiler is a diagnostic; its absence must not lose the rest
        print(f"torch.profiler failed: {type(exc).__name__}: {exc}", file=out)
    text = out.getvalue()
    print(text)
    if args.out is not None:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
