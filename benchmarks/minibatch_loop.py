"""One mini-batch epoch on the CPU: torchlogit's device-side loop, skorch's own loop, a hand-written torch loop.

The per-epoch CPU time (``time.process_time``) of each, one torch thread, contenders
alternating, best over ``--rounds``: on a loaded machine wall time is mostly other
processes' time, CPU time much less so. torchlogit's epochs are timed by a callback inside
its fits (3 epochs for Adam, 10 for the network); skorch's loop is forced by a callback
that acts per batch (see ``LogitNet.run_single_epoch``). Workloads: an Adam epoch over
200k x 100 at batch 200 and 4096, and a hidden (256,) multi-label network on
36k x 100 x 20 at batch 200 and 2048 (``--mlp-rows`` to change).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 \\
        .venv/bin/python benchmarks/minibatch_loop.py --rounds 5

``benchmarks/gpu.py`` times the same workloads on any device, whole fits included.
"""

import argparse
import time
import warnings

import torch
import torch.nn.functional as F
from gpu import LR, MLP_LR, make_data
from skorch.callbacks import Callback

from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier

clock = time.process_time
EPOCH_TIMES = []  # the estimators deep-copy their callbacks: the copies report here


class ForceSkorchLoop(Callback):
    def on_batch_end(self, net, **kwargs):
        pass


class EpochClock(Callback):
    def on_epoch_begin(self, net, **kwargs):
        self.start = clock()

    def on_epoch_end(self, net, **kwargs):
        EPOCH_TIMES.append(clock() - self.start)


def ours(make, X, y, skorch_loop):
    """(best epoch, whole fit) CPU seconds of torchlogit's fit."""
    EPOCH_TIMES.clear()
    callbacks = [("clock", EpochClock())] + ([("force", ForceSkorchLoop())] if skorch_loop else [])
    start = clock()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make(callbacks).fit(X, y)
    return min(EPOCH_TIMES), clock() - start


def hand_loop(X, target, batch, epochs, model, parameters, penalised):
    """(best epoch, all epochs) CPU seconds of the plain loop: index_select batches, Adam, loss + L2 by autograd."""
    n = X.shape[0]
    optimizer = torch.optim.Adam(parameters, lr=LR if isinstance(model, torch.nn.Linear) else MLP_LR)
    generator = torch.Generator().manual_seed(0)
    times, total = [], clock()
    for _ in range(epochs):
        start = clock()
        order = torch.randperm(n, generator=generator)
        for first in range(0, n, batch):
            idx = order[first : first + batch]
            Xb, yb = X.index_select(0, idx), target.index_select(0, idx)
            optimizer.zero_grad()
            logits = model(Xb)
            loss = F.binary_cross_entropy_with_logits(logits.reshape(yb.shape), yb, reduction="sum") / Xb.shape[0]
            loss = loss + sum((W * W).sum() for W in penalised) / (2 * n)
            loss.backward()
            optimizer.step()
        times.append(clock() - start)
    return min(times), clock() - total


def compare(title, runs, rounds):
    results = {}
    for r in range(rounds):
        for name in runs if r % 2 == 0 else list(runs)[::-1]:
            epoch, whole = runs[name]()
            results.setdefault(f"{name} epoch", []).append(epoch)
            results.setdefault(f"{name} fit", []).append(whole)
    best = {key: min(values) for key, values in results.items()}
    hand = best["hand loop epoch"]
    print(f"{title} (CPU s, best of {rounds}): " + ", ".join(f"{k} {v:.3f}" for k, v in best.items()))
    print(
        f"    epoch / hand loop's: device loop {best['device loop epoch'] / hand:.2f}, "
        f"skorch loop {best['skorch loop epoch'] / hand:.2f}",
        flush=True,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--adam-rows", type=int, default=200_000)
    parser.add_argument("--mlp-rows", type=int, default=36_000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cpu = torch.device("cpu")
    for batch in (200, 4096):
        X, y = make_data(dict(n=args.adam_rows, d=100, k=2, kind="adam"), cpu)
        Xn, yn = X.numpy(), y.numpy()

        def make(callbacks, batch=batch):
            return TorchLogisticClassifier(
                solver="adam", learning_rate_init=LR, batch_size=batch, max_iter=3, n_iter_no_change=100,
                random_state=0, callbacks=callbacks,
            )  # fmt: skip

        def hand(batch=batch, X=X, y=y):
            model = torch.nn.Linear(100, 1)
            torch.nn.init.zeros_(model.weight), torch.nn.init.zeros_(model.bias)
            return hand_loop(X, y.to(X.dtype), batch, 2, model, list(model.parameters()), [model.weight])

        runs = {
            "device loop": lambda make=make, Xn=Xn, yn=yn: ours(make, Xn, yn, False),
            "skorch loop": lambda make=make, Xn=Xn, yn=yn: ours(make, Xn, yn, True),
            "hand loop": hand,
        }
        compare(f"Adam, {args.adam_rows:,} x 100, batch {batch}", runs, args.rounds)
    for batch in (200, 2048):
        X, Y = make_data(dict(n=args.mlp_rows, d=100, k=20, kind="mlp"), cpu)
        Xn, Yn = X.numpy(), Y.numpy()

        def make(callbacks, batch=batch):
            return TorchMultiLabelClassifier(
                hidden_layer_sizes=(256,), solver="adam", learning_rate_init=MLP_LR, batch_size=batch, max_iter=10,
                n_iter_no_change=100, random_state=0, callbacks=callbacks,
            )  # fmt: skip

        def hand(batch=batch, X=X, Y=Y):
            torch.manual_seed(0)
            model = torch.nn.Sequential(torch.nn.Linear(100, 256), torch.nn.ReLU(), torch.nn.Linear(256, 20))
            return hand_loop(
                X, Y.to(X.dtype), batch, 10, model, list(model.parameters()), [model[0].weight, model[2].weight]
            )

        runs = {
            "device loop": lambda make=make, Xn=Xn, Yn=Yn: ours(make, Xn, Yn, False),
            "skorch loop": lambda make=make, Xn=Xn, Yn=Yn: ours(make, Xn, Yn, True),
            "hand loop": hand,
        }
        compare(f"hidden (256,) multi-label, {args.mlp_rows:,} x 100 x 20, 10 epochs, batch {batch}", runs, args.rounds)


if __name__ == "__main__":
    main()
