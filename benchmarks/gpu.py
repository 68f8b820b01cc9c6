"""torchlogit where the data lives: the workloads of issue 14 on one device, in one process.

Each workload runs its contenders in turn (a warm-up round, then ``--repeats`` rounds,
alternating the order) and reports the best time of each with the objective it reached
(float64, on the workload's data, sklearn's ``LogisticRegression`` objective; for the
network, the mean binary cross-entropy plus the same L2 term). Contenders:

* ``torchlogit``: the estimator, fed the workload's tensors (or NumPy where the workload
  says so), ``device=`` the benchmark's device;
* ``sklearn cpu``: scikit-learn on NumPy copies of the data, on the host;
* ``sklearn array-api``: scikit-learn on the same device tensors in array-API mode
  (``config_context(array_api_dispatch=True)``); skipped, with the reason printed, when
  ``array-api-compat`` is missing or scikit-learn refuses the estimator;
* ``torch floor``: what a user writes by hand in torch: ``torch.optim.LBFGS`` on the same
  objective, a plain Adam loop over ``index_select`` batches, a plain MLP loop. The data
  is already on the device for them: they do no validation, no label encoding, no copy.

On a CUDA machine (see ../shared/gpu/README.md for the wheels; results in ``--out-dir``)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 benchmarks/gpu.py --out-dir "$OUT"

Without a GPU the same script runs on the CPU (``--device cpu``; ``--scale 0.2`` for a fifth
of the rows); ``--tiny`` is a smoke run of 400 rows x 20 features (the test suite runs it;
its times are not performance figures).
Outputs: ``gpu_results{tag}.json`` and ``.md``, tag "" for a CUDA run, "-cpu" for a CPU
run, "-tiny" for a tiny one.
"""

import os

# sklearn's array-API mode needs SciPy's array-API support, switched on before SciPy loads.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

import torchlogit  # noqa: E402
from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier  # noqa: E402

HERE = Path(__file__).parent
TINY_ROWS = 400

# (rows, features, classes or labels, batch size) at full size; the workloads.
WORKLOADS = {
    "binary, from device tensors": dict(n=1_000_000, d=100, k=2, kind="fit", source="tensor"),
    "binary, from NumPy": dict(n=1_000_000, d=100, k=2, kind="fit", source="numpy"),
    "multinomial, from device tensors": dict(n=1_000_000, d=100, k=10, kind="fit", source="tensor"),
    "predict_proba, from a device tensor": dict(n=1_000_000, d=100, k=2, kind="predict", source="tensor"),
    "mini-batch: Adam epoch, batch 200": dict(n=1_000_000, d=100, k=2, kind="adam", batch=200),
    "mini-batch: Adam epoch, batch 4096": dict(n=1_000_000, d=100, k=2, kind="adam", batch=4096),
    "mini-batch: hidden (256,) multi-label, 10 epochs, batch 200": dict(
        n=180_000, d=100, k=20, kind="mlp", batch=200, epochs=10
    ),
    "mini-batch: hidden (256,) multi-label, 10 epochs, batch 2048": dict(
        n=180_000, d=100, k=20, kind="mlp", batch=2048, epochs=10
    ),
}
C = 1.0  # every contender's penalty: 1 / (2 C n) ||W||^2
LR = 0.01  # Adam's step for the logistic epoch (TorchLogisticClassifier's default learning_rate_init)
MLP_LR = 0.001  # and for the network (TorchMultiLabelClassifier's and MLPClassifier's default)
TOL = 1e-4  # sklearn's default: max |gradient| at which L-BFGS stops


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_name(device):
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} logical cores"


# ---------------------------------------------------------------- data
def make_data(spec, device):
    """Features (float32) and targets as tensors on ``device``, drawn on the device.

    Correlated Gaussian features (a shared factor), a logit model with a moderate signal:
    well conditioned, as most real problems after scaling.
    """
    n, d, k = spec["n"], spec["d"], spec["k"]
    generator = torch.Generator(device=device).manual_seed(0)
    X = torch.randn(n, d, generator=generator, device=device)
    X += 0.5 * torch.randn(n, 1, generator=generator, device=device)
    if spec["kind"] == "mlp":
        W = torch.randn(d, k, generator=generator, device=device) / math.sqrt(d)
        hidden = torch.tanh(X @ torch.randn(d, d, generator=generator, device=device) / math.sqrt(d))
        y = (torch.rand(n, k, generator=generator, device=device) < torch.sigmoid(2 * hidden @ W)).to(torch.int64)
        return X, y
    W = torch.randn(d, max(k, 2) if k > 2 else 1, generator=generator, device=device) / math.sqrt(d)
    logits = 2 * X @ W
    if k == 2:
        y = (torch.rand(n, generator=generator, device=device) < torch.sigmoid(logits[:, 0])).to(torch.int64)
    else:
        gumbel = -torch.log(-torch.log(torch.rand(n, k, generator=generator, device=device)))
        y = (logits + gumbel).argmax(1)
    return X, y


def host(tensor):
    return tensor.cpu().numpy()


# ---------------------------------------------------------------- objectives (float64)
def logistic_objective(X, y, coef, intercept):
    """sklearn's LogisticRegression objective at (coef, intercept), in float64 on X's device."""
    X64 = X.double()
    W = torch.as_tensor(np.asarray(coef), dtype=torch.float64, device=X.device)
    b = torch.as_tensor(np.asarray(intercept), dtype=torch.float64, device=X.device)
    z = X64 @ W.T + b
    if W.shape[0] == 1:
        loss = F.binary_cross_entropy_with_logits(z[:, 0], y.double())
    else:
        loss = F.cross_entropy(z, y)
    return float(loss + (W * W).sum() / (2 * C * X.shape[0]))


def network_objective(X, Y, forward, weights):
    """Mean over rows of the sum over labels of BCE, plus the L2 term on the network's weights."""
    with torch.no_grad():
        loss = F.binary_cross_entropy_with_logits(forward(X).double(), Y.double(), reduction="sum") / X.shape[0]
        return float(loss + sum((W.double() ** 2).sum() for W in weights) / (2 * C * X.shape[0]))


# ---------------------------------------------------------------- torchlogit input
class Inputs:
    """The tensors handed to torchlogit: the device tensors, or NumPy copies where this branch refuses them."""

    def __init__(self, X, y):
        self.X, self.y, self.note = X, y, ""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                TorchLogisticClassifier(max_iter=1, device=X.device).fit(X[:64], y[:64])
        except Exception as exc:  # FALLBACK until tensor input lands: convert outside the timer, say so
            self.X, self.y = host(X), host(y)
            self.note = f"tensor input failed ({type(exc).__name__}): NumPy copies, converted untimed"


# ---------------------------------------------------------------- contenders
def quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn()


def fit_contenders(spec, X, y, device):
    """Full-batch fits: torchlogit, sklearn cpu, sklearn array-api, torch L-BFGS."""
    Xh, yh = host(X), host(y)
    inputs = Inputs(X, y) if spec["source"] == "tensor" else None
    contenders = {}

    def ours():
        if inputs is None:  # from NumPy: the host-to-device copy is part of the fit
            model = TorchLogisticClassifier(C=C, device=device).fit(Xh, yh)
        else:
            model = TorchLogisticClassifier(C=C, device=device).fit(inputs.X, inputs.y)
        return model.coef_, model.intercept_, int(model.n_iter_[0])

    contenders["torchlogit"] = (ours, inputs.note if inputs else "NumPy float32 in, device=" + str(device))

    def sklearn_cpu():
        model = LogisticRegression(C=C).fit(Xh, yh)
        return model.coef_, model.intercept_, int(model.n_iter_[0])

    contenders["sklearn cpu"] = (sklearn_cpu, "NumPy float32 on the host")
    if spec["source"] == "tensor":
        reason = array_api_reason(X, y)
        if reason is None:

            def sklearn_array_api():
                with sklearn.config_context(array_api_dispatch=True):
                    model = LogisticRegression(C=C).fit(X, y)
                return host_array(model.coef_), host_array(model.intercept_), int(host_array(model.n_iter_)[0])

            contenders["sklearn array-api"] = (sklearn_array_api, f"torch tensors on {device}")
        else:
            print(f"  sklearn array-api skipped: {reason}", file=sys.stderr)
        contenders["torch floor"] = (lambda: torch_lbfgs(X, y, spec["k"]), "torch.optim.LBFGS, same objective")
    return contenders, lambda result: logistic_objective(X, y, result[0], result[1])


def host_array(a):
    return a.cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def array_api_reason(X, y):
    """None when sklearn's array-API mode fits on these tensors, else why not (printed, not raised)."""
    try:
        import array_api_compat  # noqa: F401
    except ImportError:
        return "array-api-compat is not installed"
    try:
        with warnings.catch_warnings(), sklearn.config_context(array_api_dispatch=True):
            warnings.simplefilter("ignore")
            LogisticRegression(max_iter=2).fit(X[:64], y[:64])
    except Exception as exc:
        return f"sklearn refused: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    return None


def torch_lbfgs(X, y, k):
    """Plain torch.optim.LBFGS on sklearn's objective, in float32 on X's device (tolerance_grad = sklearn's tol)."""
    n, d = X.shape
    outputs = 1 if k == 2 else k
    W = torch.zeros(outputs, d, device=X.device, requires_grad=True)
    b = torch.zeros(outputs, device=X.device, requires_grad=True)
    target = y.to(X.dtype) if k == 2 else y
    optimizer = torch.optim.LBFGS(
        [W, b], lr=1, max_iter=100, tolerance_grad=TOL, tolerance_change=1e-9, line_search_fn="strong_wolfe"
    )

    def closure():
        optimizer.zero_grad()
        z = torch.addmm(b, X, W.T)
        if k == 2:
            loss = F.binary_cross_entropy_with_logits(z[:, 0], target)
        else:
            loss = F.cross_entropy(z, target)
        loss = loss + (W * W).sum() / (2 * C * n)
        loss.backward()
        return loss

    optimizer.step(closure)
    n_iter = optimizer.state[optimizer._params[0]]["n_iter"]
    return W.detach().cpu().numpy(), b.detach().cpu().numpy(), int(n_iter)


def predict_contenders(spec, X, y, device):
    """predict_proba of every row, each contender with a model fitted once outside the timer."""
    inputs = Inputs(X, y)
    ours = quiet(lambda: TorchLogisticClassifier(C=C, device=device).fit(inputs.X, inputs.y))
    reference = quiet(lambda: LogisticRegression(C=C).fit(host(X), host(y)))
    Xh = host(X)
    w = torch.as_tensor(ours.coef_, dtype=X.dtype, device=device)
    b = torch.as_tensor(ours.intercept_, dtype=X.dtype, device=device)

    def floor():
        p = torch.sigmoid(torch.addmm(b, X, w.T))
        return torch.cat([1 - p, p], dim=1)

    out = type(ours.predict_proba(inputs.X[:2])).__name__
    contenders = {
        "torchlogit": (lambda: ours.predict_proba(inputs.X), inputs.note or f"tensor in, {out} out"),
        "sklearn cpu": (lambda: reference.predict_proba(Xh), "NumPy float32 on the host"),
    }
    reason = array_api_reason(X, y)
    if reason is None:
        with sklearn.config_context(array_api_dispatch=True):
            on_device = LogisticRegression(C=C).fit(X, y)

        def sklearn_array_api():
            with sklearn.config_context(array_api_dispatch=True):
                return on_device.predict_proba(X)

        contenders["sklearn array-api"] = (sklearn_array_api, f"torch tensors on {device}")
    else:
        print(f"  sklearn array-api skipped: {reason}", file=sys.stderr)
    contenders["torch floor"] = (floor, "sigmoid(X @ w + b) with torchlogit's coef_")
    expected = host(floor()).astype(np.float64)

    def quality(result):  # largest difference from the floor's probabilities, same coefficients for ours
        return float(np.max(np.abs(host_array(result).astype(np.float64) - expected)))

    return contenders, quality


def adam_contenders(spec, X, y, device):
    """One Adam epoch (lr ``LR``, 0.01, sklearn's objective per batch): torchlogit against a hand-written loop."""
    inputs = Inputs(X, y)
    n, d = X.shape
    batch = spec["batch"]
    parameters = {}

    def ours():
        model = TorchLogisticClassifier(
            C=C, solver="adam", learning_rate_init=LR, batch_size=batch, max_iter=1, random_state=0, device=device
        ).fit(inputs.X, inputs.y)
        return model.coef_, model.intercept_

    def loop():
        generator = torch.Generator().manual_seed(0)
        W = torch.zeros(1, d, device=X.device, requires_grad=True)
        b = torch.zeros(1, device=X.device, requires_grad=True)
        optimizer = torch.optim.Adam([W, b], lr=LR)
        target = y.to(X.dtype)
        order = torch.randperm(n, generator=generator).to(X.device)
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            Xb, yb = X.index_select(0, idx), target.index_select(0, idx)
            optimizer.zero_grad()
            loss = F.binary_cross_entropy_with_logits(torch.addmm(b, Xb, W.T)[:, 0], yb)
            loss = loss + (W * W).sum() / (2 * C * n)
            loss.backward()
            optimizer.step()
        parameters["loop"] = (W, b)
        return W.detach().cpu().numpy(), b.detach().cpu().numpy()

    contenders = {
        "torchlogit": (quiet_fn(ours), (inputs.note + "; " if inputs.note else "") + "fit: preparation included"),
        "torch floor": (loop, "hand-written Adam loop, index_select batches"),
    }
    return contenders, lambda result: logistic_objective(X, y, result[0], result[1])


def quiet_fn(fn):
    return lambda: quiet(fn)


def mlp_contenders(spec, X, Y, device):
    """A (256,) ReLU network, one logit per label, Adam lr 1e-3, ``epochs`` epochs."""
    inputs = Inputs(X, Y[:, 0])
    Yin = Y if inputs.note == "" else host(Y)
    Xin = inputs.X
    n, d = X.shape
    labels = Y.shape[1]
    batch, epochs = spec["batch"], spec["epochs"]

    def ours():
        model = TorchMultiLabelClassifier(
            hidden_layer_sizes=(256,),
            C=C,
            solver="adam",
            learning_rate_init=MLP_LR,
            batch_size=batch,
            max_iter=epochs,
            n_iter_no_change=epochs + 1,
            random_state=0,
            device=device,
        ).fit(Xin, Yin)
        return relu_network(model.coefs_, model.intercepts_, X.device)

    def loop():
        generator = torch.Generator().manual_seed(0)
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(d, 256), torch.nn.ReLU(), torch.nn.Linear(256, labels)).to(X.device)
        optimizer = torch.optim.Adam(net.parameters(), lr=MLP_LR)
        target = Y.to(X.dtype)
        weights = [net[0].weight, net[2].weight]
        for _ in range(epochs):
            order = torch.randperm(n, generator=generator).to(X.device)
            for start in range(0, n, batch):
                idx = order[start : start + batch]
                Xb, Yb = X.index_select(0, idx), target.index_select(0, idx)
                optimizer.zero_grad()
                loss = F.binary_cross_entropy_with_logits(net(Xb), Yb, reduction="sum") / Xb.shape[0]
                loss = loss + sum((W * W).sum() for W in weights) / (2 * C * n)  # each batch: the whole penalty
                loss.backward()
                optimizer.step()
        return net, weights

    def sklearn_cpu():
        model = MLPClassifier(
            hidden_layer_sizes=(256,),
            learning_rate_init=MLP_LR,
            batch_size=batch,
            max_iter=epochs,
            n_iter_no_change=epochs + 1,
            random_state=0,
        )
        model.fit(host(X), host(Y))
        return relu_network(model.coefs_, model.intercepts_, X.device)

    contenders = {
        "torchlogit": (quiet_fn(ours), (inputs.note + "; " if inputs.note else "") + "fit: preparation included"),
        "torch floor": (loop, "hand-written MLP loop, index_select batches"),
        "sklearn cpu": (quiet_fn(sklearn_cpu), "MLPClassifier on the host (alpha=1e-4: its own objective)", True),
    }
    return contenders, lambda result: network_objective(X, Y, result[0], result[1])


def relu_network(coefs, intercepts, device):
    """(forward, weights) of a one-hidden-layer ReLU network given as MLPClassifier's ``coefs_``/``intercepts_``."""
    layers = [torch.as_tensor(np.asarray(a), dtype=torch.float64, device=device) for a in coefs]
    biases = [torch.as_tensor(np.asarray(a), dtype=torch.float64, device=device) for a in intercepts]

    def forward(Z):
        return torch.relu(Z.double() @ layers[0] + biases[0]) @ layers[1] + biases[1]

    return forward, layers


CONTENDERS = {"fit": fit_contenders, "predict": predict_contenders, "adam": adam_contenders, "mlp": mlp_contenders}


# ---------------------------------------------------------------- running
def run_workload(name, spec, device, repeats, warm_up=True):
    X, y = make_data(spec, device)
    contenders, quality = CONTENDERS[spec["kind"]](spec, X, y, device)
    names = list(contenders)
    times = {key: [] for key in names}
    results = {}
    # Round 0 warms up (CUDA context, kernels, caches) and is not counted. A contender
    # marked "once" (minutes on the host, nothing to warm up) runs in round 1 only.
    for round_ in range(0 if warm_up else 1, repeats + 1):
        order = names if round_ % 2 == 0 else names[::-1]
        for key in order:
            fn, _, once = (*contenders[key], False)[:3]
            if once and round_ != 1:
                continue
            sync(device)
            start = time.perf_counter()
            result = fn()
            sync(device)
            elapsed = time.perf_counter() - start
            if round_ > 0:
                times[key].append(elapsed)
            results[key] = result
    rows = []
    for key in names:
        result = results[key]
        rows.append(
            {
                "workload": name,
                "contender": key,
                "best_s": min(times[key]),
                "times_s": times[key],
                "quality": quality(result),
                "n_iter": result[2] if isinstance(result, tuple) and len(result) > 2 else None,
                "note": contenders[key][1],
            }
        )
    ours = rows[0]["best_s"]
    for row in rows:
        row["ratio_to_torchlogit"] = row["best_s"] / ours
    return rows, {k: v for k, v in spec.items()}


def scaled(spec, tiny, scale):
    """The workload at ``scale`` times its rows; ``tiny``: a few hundred rows of 20 features, 2 epochs."""
    spec = dict(spec)
    spec["n"] = int(spec["n"] * scale)
    if tiny:
        spec.update(n=TINY_ROWS, d=20)
        if "batch" in spec:
            spec["batch"] = min(spec["batch"], TINY_ROWS // 8)
        if "epochs" in spec:
            spec["epochs"] = 2
    return spec


QUALITY = {"fit": "objective", "adam": "objective", "mlp": "objective", "predict": "max |p - floor|"}


def markdown(report):
    meta = report["meta"]
    lines = [
        f"# torchlogit on {meta['device_name']}",
        "",
        f"Device `{meta['device']}` ({meta['device_name']}); torch {meta['torch']}, scikit-learn {meta['sklearn']}, "
        f"torchlogit {meta['torchlogit']}; best of {meta['repeats']} alternating rounds"
        + (" (no warm-up)" if meta["tiny"] else " after a warm-up (MLPClassifier: one run)")
        + ". "
        "Objective: float64, sklearn's objective on the workload's data (lower is better).",
        "",
    ]
    if meta["device"] == "cpu" or meta["tiny"]:
        lines += [
            "**Not a GPU run.** "
            + ("A tiny smoke run: these times say the script works, not how fast anything is." if meta["tiny"] else "")
            + (" Run on the CPU." if meta["device"] == "cpu" else ""),
            "",
        ]
    lines += [
        "| workload | rows | contender | best time (s) | vs torchlogit | quality | iterations | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        spec = report["workloads"][row["workload"]]
        quality = QUALITY[spec["kind"]]
        lines.append(
            f"| {row['workload']} | {spec['n']:,} x {spec['d']} | {row['contender']} | {row['best_s']:.4g} | "
            f"{row['ratio_to_torchlogit']:.2f}x | {quality} {row['quality']:.6g} | "
            f"{'' if row['n_iter'] is None else row['n_iter']} | {row['note']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--tiny", action="store_true", help=f"{TINY_ROWS} rows x 20 features: a smoke run")
    parser.add_argument("--scale", type=float, default=1.0, help="every number of rows multiplied by this")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated substrings of workload names to run")
    parser.add_argument("--out-dir", type=Path, default=HERE)
    parser.add_argument("--tag", default=None, help='output name suffix (default: "", "-cpu" or "-tiny")')
    args = parser.parse_args(argv)
    if args.tiny:  # a smoke run: one round, one torch thread (it runs next to the test suite's own work)
        args.repeats = 1
        torch.set_num_threads(1)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here (use --device cpu)")
    picked = [n for n in WORKLOADS if not args.only or any(s.strip() in n for s in args.only.split(","))]
    report = {
        "meta": {
            "device": device.type,
            "device_name": device_name(device),
            "torch": torch.__version__,
            "sklearn": sklearn.__version__,
            "torchlogit": torchlogit.__version__,
            "python": platform.python_version(),
            "repeats": args.repeats,
            "tiny": args.tiny,
            "scale": args.scale,
        },
        "workloads": {},
        "rows": [],
    }
    tag = args.tag if args.tag is not None else ("-tiny" if args.tiny else ("-cpu" if device.type == "cpu" else ""))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name in picked:
        spec = scaled(WORKLOADS[name], args.tiny, args.scale)
        print(f"{name}: {spec['n']:,} x {spec['d']}", file=sys.stderr, flush=True)
        rows, used = run_workload(name, spec, device, args.repeats, warm_up=not args.tiny)
        report["workloads"][name] = used
        report["rows"] += rows
        for row in rows:
            print(f"  {row['contender']:>18}: {row['best_s']:.4g} s  quality {row['quality']:.6g}", file=sys.stderr)
        # Written after every workload: a run cut short by a time limit keeps what it measured.
        (args.out_dir / f"gpu_results{tag}.json").write_text(json.dumps(report, indent=1) + "\n")
        (args.out_dir / f"gpu_results{tag}.md").write_text(markdown(report))
    return report


if __name__ == "__main__":
    main()
