"""Seeded bug drill: does the test suite catch realistic, hand-made bugs?

Each bug is a small source edit a developer could plausibly make (a wrong default, a
row count where a weight sum belongs, a dropped factor, a weakened check), given as
``(file, exact old text, new text, test files, description)``. Unlike mutmut's
one-token mutants they are chosen to look right at a glance.

For each bug the drill copies the repository once to a scratch directory (default
``/tmp/seeded/work``; the working tree is never edited), applies that one edit,
runs the bug's test files there with ``python -m pytest -x -q -p no:cacheprovider``, and
restores the file. A bug is *caught* when pytest fails (the first failing test is
reported), *missed* when it passes.

Which tests run: for each module, the test files that scripts/mutation.toml lists for
it (the files written against that module), plus files named here for the modules that
list does not cover, plus ``tests/test_seeded_bugs.py`` when it exists; the seeded-bug
and contract tests go first, so that with ``-x`` a caught bug stops early (the order
changes the time, not the verdict). This asks whether the tests written for a module
catch a bug in it, at a cost the 2-core machine can pay for ~75 bugs; ``--broad`` runs
the whole ``tests/`` directory minus the slow, unrelated files instead (much slower).
A run longer than ``--timeout`` is reported as ``timeout`` (undecided), not as caught.

Usage::

    python scripts/seeded_bugs.py                 # every bug, one at a time
    python scripts/seeded_bugs.py --only 12       # one bug (several: --only 3 --only 7)
    python scripts/seeded_bugs.py --list          # the bugs, and check each old text occurs once
    python scripts/seeded_bugs.py --json out.json # also write the results as JSON (after each bug)
    python scripts/seeded_bugs.py --no-seeded-tests   # without tests/test_seeded_bugs.py
    python scripts/seeded_bugs.py --only 9 --tests tests/test_seeded_bugs.py   # judge with these files only

Run it under ``nice -n 19`` on a shared machine; bugs run one after another.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
SEEDED_TESTS = "tests/test_seeded_bugs.py"


@dataclass
class Bug:
    module: str  # torchlogit/<module>.py
    old: str
    new: str
    description: str
    kind: str = "other"  # which family of bug (the issue's list, or "other")
    tests: list = field(default_factory=list)  # extra test files (added to the module's list)

    @property
    def file(self):
        return f"torchlogit/{self.module}.py"


# Test files of the modules scripts/mutation.toml does not list.
EXTRA_MODULE_TESTS = {
    "_data": [
        "tests/test_logistic_api.py",
        "tests/test_bad_input.py",
        "tests/test_sparse.py",
        "tests/test_contracts_weights.py",
        "tests/test_tensors.py",
        "tests/test_extreme_values.py",  # overflow and underflow of the training copy (h3: the only file killing four)
    ],
    "_training_set": [
        "tests/test_tensors.py",
        "tests/test_partial_fit.py",
        "tests/test_multilabel.py",
        "tests/test_contracts_incremental.py",
    ],
    "_predict": [
        "tests/test_contracts_predict.py",
        "tests/test_logistic_api.py",
        "tests/test_multilabel.py",
        "tests/test_edge_cases.py",
    ],
    "_cv": ["tests/test_cv.py"],
    "_compare": ["tests/test_compare.py"],
    "_batched": ["tests/test_batched_whitening.py", "tests/test_cv.py"],
    "_newton": ["tests/test_newton.py"],
    "_net": [
        "tests/test_minibatch_loop.py",
        "tests/test_partial_fit.py",
        "tests/test_determinism.py",
        "tests/test_threads.py",
        "tests/test_newton.py",
        "tests/test_contracts_callbacks.py",
    ],
    "_threads": ["tests/test_threads.py"],
}

# With --broad: tests/ minus these (slow, or about the docs / examples / benchmarks, not the numerics).
BROAD_EXCLUDE = [
    "tests/test_common.py",
    "tests/test_sklearn_logistic_suite.py",
    "tests/test_examples.py",
    "tests/test_docs.py",
    "tests/test_devices_page.py",
    "tests/test_benchmarks.py",
    "tests/test_plot_performance.py",
    "tests/test_onnx.py",
    "tests/test_skops.py",
    "tests/test_compare.py",
]


BUGS = [
    # ------------------------------------------------------------------ _objective
    Bug(
        "_objective",
        "    scale = 1.0 / (weight_sum * batch_fraction)\n",
        "    scale = 1.0 / weight_sum\n",
        "mini-batch data term not scaled up by n/len(batch): the penalty weighs len(batch)/n too much",
        "penalty",
    ),
    Bug(
        "_objective",
        "            residual.mul_(factor).sub_(torch.mul(target, pos_weight, out=factor))\n",
        "            residual.sub_(torch.mul(target, pos_weight, out=factor))\n",
        "multilabel pos_weight gradient: the positive term's weight left out of p",
        "pos_weight",
    ),
    Bug(
        "_objective",
        "    smooth = penalty(weights, 0.0) * (1 - l1_ratio) if l1_ratio < 1 else 0.0\n",
        "    smooth = penalty(weights, 0.0) if l1_ratio < 1 else 0.0\n",
        "autograd objective (hidden layers): elastic-net L2 part not scaled by (1 - l1_ratio)",
        "penalty",
    ),
    Bug(
        "_objective",
        "    return 0.0 if math.isinf(C) or l1_ratio == 0 else l1_ratio / (C * weight_sum)\n",
        "    return 0.0 if math.isinf(C) or l1_ratio == 0 else l1_ratio / C\n",
        "L1 strength not divided by the weight sum S (OWL-QN and the proximal step)",
        "weight_sum",
    ),
    Bug(
        "_objective",
        "    return 0.0 if math.isinf(C) else (1 - l1_ratio) / (C * weight_sum)\n",
        "    return 0.0 if math.isinf(C) else 1 / (C * weight_sum)\n",
        "closed-form L2 gradient ignores (1 - l1_ratio) (value and gradient disagree under elastic-net)",
        "penalty",
    ),
    # ------------------------------------------------------------------ _solvers
    Bug(
        "_solvers",
        "        if abs(gtd_new) <= -c2 * gtd0:\n            return t, f_new, g_new, n_evals\n",
        "        if gtd_new >= c2 * gtd0:\n            return t, f_new, g_new, n_evals\n",
        "strong-Wolfe curvature condition weakened to the weak one in the bracketing phase",
        "wolfe",
    ),
    Bug(
        "_solvers",
        "            if abs(gtd_new) <= -c2 * gtd0:\n                bracket[low] = point\n",
        "            if gtd_new >= c2 * gtd0:\n                bracket[low] = point\n",
        "strong-Wolfe curvature condition weakened to the weak one in the zoom phase",
        "wolfe",
    ),
    Bug(
        "_solvers",
        "def strong_wolfe(evaluate, f0, g0, gtd0, t, *, c1=1e-4, c2=0.9,",
        "def strong_wolfe(evaluate, f0, g0, gtd0, t, *, c1=1e-4, c2=0.999,",
        "strong-Wolfe c2 default loosened from 0.9 to 0.999",
        "wolfe",
    ),
    Bug(
        "_solvers",
        "            if ys > torch.finfo(x.dtype).eps * -gtd * t and 0 < yy < math.inf and math.isfinite(ys):\n",
        "            if ys > 1e-10 and 0 < yy < math.inf and math.isfinite(ys):\n",
        "curvature pairs kept by torch's absolute test (ys > 1e-10) instead of L-BFGS-B's relative one",
    ),
    Bug(
        "_solvers",
        '                state["gamma"] = ys / yy\n',
        '                state["gamma"] = yy / ys\n',
        "L-BFGS initial Hessian scaling inverted (yy/ys instead of ys/yy)",
    ),
    Bug(
        "_solvers",
        "        orthant = torch.where(x != 0, torch.sign(x), -torch.sign(pg))\n",
        "        orthant = torch.where(x != 0, torch.sign(x), torch.sign(pg))\n",
        "OWL-QN orthant of a zero coordinate taken along +pg instead of -pg",
        "l1",
    ),
    Bug(
        "_solvers",
        "        if f > 0 and gtd < 0 and t > _FIRST_STEP_OVERSHOOT * f / -gtd:\n",
        "        if f > 0 and gtd > 0 and t > _FIRST_STEP_OVERSHOOT * f / -gtd:\n",
        "first steepest-descent step no longer cut back on a 100x overshoot (condition sign typo)",
    ),
    # ------------------------------------------------------------------ _callbacks
    Bug(
        "_callbacks",
        "        self.count_ = self.count_ + 1 if loss > self.best_ - self.tol else 0\n",
        "        self.count_ = self.count_ + 1 if loss > self.best_ + self.tol else 0\n",
        "no-improvement rule: tol added instead of subtracted (MLPClassifier: loss > best - tol)",
        "stopping",
    ),
    Bug(
        "_callbacks",
        "        if self.count_ > self.n_iter_no_change:\n",
        "        if self.count_ >= self.n_iter_no_change:\n",
        "no-improvement rule stops after n_iter_no_change epochs instead of n_iter_no_change + 1",
        "stopping",
    ),
    Bug(
        "_callbacks",
        "        if loss < self.best_:\n            self.best_ = loss\n",
        "        if loss < self.best_ - self.tol:\n            self.best_ = loss\n",
        "best loss only updated on an improvement beyond tol (MLPClassifier updates on any improvement)",
        "stopping",
    ),
    Bug(
        "_callbacks",
        "            weight_sum = float(torch.sum(self.data.weight, dtype=torch.float64))\n",
        "            weight_sum = float(len(self.data.weight))\n",
        "validation loss divided by the row count instead of the weight sum",
        "weight_sum",
    ),
    Bug(
        "_callbacks",
        "    return 64 * float(np.finfo(np.float64).eps) if dtype == torch.float64 else 8 * "
        "float(np.finfo(np.float32).eps)\n",
        "    return 64 * float(np.finfo(np.float32).eps) if dtype == torch.float64 else 8 * "
        "float(np.finfo(np.float32).eps)\n",
        "float64 ftol computed from float32's eps (stops ~5e8 times too early)",
        "float32",
    ),
    Bug(
        "_callbacks",
        '                    bias_correction = 1 - group["betas"][1] ** float(state["step"])\n',
        '                    bias_correction = 1 - group["betas"][0] ** float(state["step"])\n',
        "Adam L1 proximal step: second-moment bias correction uses beta1",
        "l1",
    ),
    # ------------------------------------------------------------------ _rows
    Bug(
        "_rows",
        "    rows.eliminate_zeros()  # an explicit zero is the same value as an implicit one\n",
        "",
        "sparse canonical rows: explicit zeros kept, so a row with one is not merged with its copy without",
        "rows",
    ),
    Bug(
        "_rows",
        "    positive = np.flatnonzero(sample_weight > 0)\n",
        "    positive = np.flatnonzero(sample_weight >= 0)\n",
        "canonical rows keep zero-weight rows",
        "rows",
    ),
    Bug(
        "_rows",
        "    return idx[starts], np.add.reduceat(w.astype(np.float64), starts), anchor[group[starts]], merged\n",
        "    return idx[starts], w[starts].astype(np.float64), anchor[group[starts]], merged\n",
        "merged identical rows keep the first row's weight instead of the sum",
        "rows",
    ),
    Bug(
        "_rows",
        "    out[:, :n_t] = np.asarray(target[at], dtype=np.float64).view(np.uint64)\n",
        "    out[:, :n_t] = 0\n",
        "dense row contents compare X only: equal rows with different labels are merged",
        "rows",
    ),
    Bug(
        "_rows",
        "    return 4 * width * np.finfo(np.float64).eps * 1.5 * width * max_abs\n",
        "    return np.finfo(np.float64).eps * max_abs\n",
        "tie bound far below the rounding of a dot product: copies of a row may not be merged",
        "rows",
    ),
    # ------------------------------------------------------------------ _targets
    Bug(
        "_targets",
        "    check_two_classes(classes, cv)\n    # MLPClassifier stratifies",
        "    # MLPClassifier stratifies",
        "one-class y no longer refused with sklearn's message",
    ),
    Bug(
        "_targets",
        "    position = np.searchsorted(classes, y).clip(0, len(classes) - 1)\n",
        "    position = np.searchsorted(classes, y)\n",
        "partial_fit label beyond the last class: IndexError instead of a ValueError naming it",
    ),
    # ------------------------------------------------------------------ _modules
    Bug(
        "_modules",
        "        return [m.weight for m in self.modules() if isinstance(m, nn.Linear)]\n",
        "        return [self.output.weight]\n",
        "hidden-layer model: only the output layer penalised (hidden layers must be too, as MLPClassifier's alpha)",
        "penalty",
    ),
    Bug(
        "_modules",
        "        return [m.weight for m in self.modules() if isinstance(m, nn.Linear)]\n",
        "        return [p for m in self.modules() if isinstance(m, nn.Linear) for p in m.parameters()]\n",
        "hidden-layer model: biases penalised too",
        "penalty",
    ),
    Bug(
        "_modules",
        "        return [m.weight for m in self.modules() if isinstance(m, nn.Linear)]\n",
        "        return [m.weight for m in self.hidden.modules() if isinstance(m, nn.Linear)]\n",
        "hidden-layer model: the output layer not penalised",
        "penalty",
    ),
    Bug(
        "_modules",
        "    def penalized_weights(self):\n        return [self.linear.weight]\n",
        "    def penalized_weights(self):\n        return list(self.linear.parameters())\n",
        "linear model: intercept in the penalised weights (L1 / proximal steps shrink it)",
        "penalty",
    ),
    Bug(
        "_modules",
        "        parts = [column_scale.to(weight.device).repeat(weight.shape[0])]\n",
        "        parts = [column_scale.to(weight.device).repeat_interleave(weight.shape[0])]\n",
        "preconditioner scale laid out class-major instead of feature-major (multinomial)",
    ),
    Bug(
        "_modules",
        "    bound = math.sqrt(factor / (n_in + n_out)) if n_in + n_out > 0 else 0.0\n",
        "    bound = factor / (n_in + n_out) if n_in + n_out > 0 else 0.0\n",
        "hidden-layer initialisation bound without its square root (MLPClassifier's Glorot bound)",
    ),
    Bug(
        "_modules",
        "        dtype = np.float32 if narrow else np.float64\n",
        "        dtype = np.float32\n",
        "warm start / partial_fit state always rounded to float32",
        "float32",
    ),
    Bug(
        "_modules",
        "        return X * keep / (1 - self.p)\n",
        "        return X * keep\n",
        "dropout without the 1/(1-p) rescaling of kept units",
    ),
    # ------------------------------------------------------------------ _inference
    Bug(
        "_inference",
        "        variances = variances * (n_obs / (n_obs - n_reported))\n",
        "        variances = variances * (n_obs / (n_obs - n_params))\n",
        "HC1 factor counts all K blocks of a multinomial model instead of the K-1 reported ones",
        "inference",
    ),
    Bug(
        "_inference",
        "            hessian.addmm_(U.T, (f * c[:, 0])[:, None] * U, alpha=-1)\n",
        "            hessian.addmm_(U.T, f[:, None] * U, alpha=-1)\n",
        "class weight dropped from the -p p^T term of the multinomial Hessian",
        "inference",
    ),
    Bug(
        "_inference",
        '        "df_resid": nobs - n_params,\n',
        '        "df_resid": nobs - df_model,\n',
        "df_resid counts the intercepts as residual degrees of freedom",
        "inference",
    ),
    Bug(
        "_inference",
        "    share = (w * Y).sum(axis=0) / w.sum(axis=0)\n",
        "    share = Y.mean(axis=0)\n",
        "null model's class shares ignore the weights (llnull, pseudo R^2)",
        "inference",
    ),
    Bug(
        "_inference",
        "            ridge_all[:, int(self.fit_intercept) :] = 1 / self.C\n",
        "            ridge_all[:, :] = 1 / self.C\n",
        "penalised summary: the intercept's curvature gets the ridge too",
        "penalty",
    ),
    Bug(
        "_inference",
        "    return np.column_stack([coef, std_err, z, 2 * norm.sf(np.abs(z)), coef - "
        "half_width, coef + half_width])\n",
        "    return np.column_stack([coef, std_err, z, norm.sf(np.abs(z)), coef - half_width, coef + half_width])\n",
        "one-sided p-values",
        "inference",
    ),
    # ------------------------------------------------------------------ _persistence
    Bug(
        "_persistence",
        '        _require(spec["nbytes"] == size, f"{what} {spec[\'name\']!r} has '
        "{spec['nbytes']} bytes for its shape\")\n",
        "",
        "model-file loader: byte count no longer checked against the shape",
        "persistence",
    ),
    Bug(
        "_persistence",
        '    _require(all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:], strict=False)), "two tensors overlap")\n',
        '    _require(all(a[0] <= b[0] for a, b in zip(ranges, ranges[1:], strict=False)), "two tensors overlap")\n',
        "model-file loader: overlapping tensors accepted (start compared with start)",
        "persistence",
    ),
    Bug(
        "_persistence",
        '        _require(spec["offset"] + size <= payload_size, f"{what} {spec[\'name\']!r} lies outside the file")\n',
        '        _require(spec["offset"] <= payload_size, f"{what} {spec[\'name\']!r} lies outside the file")\n',
        "model-file loader: a tensor's end not checked against the file's size",
        "persistence",
    ),
    # ------------------------------------------------------------------ _kernels
    Bug(
        "_kernels",
        "            stop = min(i + step, len(rows))\n            lo, hi = int(indptr[i]), int(indptr[stop])\n",
        "            stop = min(i + step, len(rows) - 1)\n            lo, hi = int(indptr[i]), int(indptr[stop])\n",
        "sparse row gather with a cast: the last row of the last chunk never copied (off by one)",
        "off-by-one",
    ),
    Bug(
        "_kernels",
        "        return torch.maximum(low.abs(), high.abs()).to(torch.float64)\n",
        "        return high.abs().to(torch.float64)\n",
        "column max |x| of dense X from the column maxima only (negative features ignored)",
    ),
    Bug(
        "_kernels",
        "    return np.int32 if max(nnz, *shape) < np.iinfo(np.int32).max else np.int64\n",
        "    return np.int32 if max(*shape) < np.iinfo(np.int32).max else np.int64\n",
        "CSR index dtype chosen from the shape only: more than 2**31 non-zeros overflow int32 offsets",
    ),
    # ------------------------------------------------------------------ _dask
    Bug(
        "_dask",
        "        weight_sum, effective, max_abs, largest, smallest = data.stats()\n",
        "        weight_sum, effective, max_abs, largest, smallest = float(X.shape[0]), *data.stats()[1:]\n",
        "Dask fit: objective divided by the row count instead of the weight sum",
        "weight_sum",
    ),
    Bug(
        "_dask",
        "            if spec.class_weight is not None:\n                weight = weight * spec.class_weight[target]\n",
        "",
        "Dask fit: class weights never applied to the blocks' rows",
        "weight_sum",
    ),
    Bug(
        "_dask",
        "        row_factor = class_weights(class_weight, classes=classes, y=classes, sample_weight=counts)\n",
        "        row_factor = class_weights(class_weight, classes=classes, y=classes)\n",
        "Dask fit: 'balanced' class weights from one row per class instead of the (weighted) counts",
        "weight_sum",
    ),
    Bug(
        "_dask",
        "            bias.grad = torch.as_tensor(grad_b / S, dtype=bias.dtype, device=bias.device)\n",
        "            bias.grad = torch.as_tensor(grad_b / len(self), dtype=bias.dtype, device=bias.device)\n",
        "Dask fit: intercept gradient divided by the row count instead of the weight sum",
        "weight_sum",
    ),
    # ------------------------------------------------------------------ _incremental
    Bug(
        "_incremental",
        "            net.criterion_.weight_sum = train.weight_sum\n",
        "            net.criterion_.weight_sum = train.n_samples\n",
        "partial_fit: the batch's row count used as its weight sum",
        "weight_sum",
    ),
    Bug(
        "_incremental",
        "            net.criterion_.n_samples = train.n_samples\n",
        "",
        "partial_fit: n_samples left at 1, so each mini-batch's data term is divided by its row count",
        "weight_sum",
    ),
    Bug(
        "_incremental",
        '            if partial["solver"] == self._solver():\n',
        '            if partial["solver"] != self._solver():\n',
        "partial_fit: Adam / momentum state of the previous call dropped (condition inverted)",
    ),
    # ------------------------------------------------------------------ _base
    Bug(
        "_training",
        '        batch_size = min(200, n_samples) if self.batch_size == "auto" else min(self.batch_size, n_samples)\n',
        '        batch_size = min(256, n_samples) if self.batch_size == "auto" else min(self.batch_size, n_samples)\n',
        "batch_size='auto' is 256 instead of MLPClassifier's min(200, n_samples)",
        "default",
    ),
    Bug(
        "_base",
        "            return float(accuracy_score(y, self._labels(logits), sample_weight=sample_weight))\n",
        "            return float(accuracy_score(y, self._labels(logits)))\n",
        "score ignores sample_weight",
        "weights",
    ),
    Bug(
        "_training",
        '        return torch.optim.SGD, self.learning_rate_init, batch_size, {"momentum": self.momentum}\n',
        "        return torch.optim.SGD, self.learning_rate_init, batch_size, {}\n",
        "SGD solver ignores momentum",
        "default",
    ),
    Bug(
        "_training",
        "                tol=self.tol, n_iter_no_change=self.n_iter_no_change, "
        'monitor="valid_loss", restore_best=True\n',
        "                tol=self.tol, n_iter_no_change=self.n_iter_no_change, "
        'monitor="valid_loss", restore_best=False\n',
        "early stopping keeps the last parameters, not the best-validating ones (MLPClassifier keeps the best)",
        "stopping",
    ),
    # ------------------------------------------------------------------ _predict
    Bug(
        "_predict",
        '    index = logits[:, 0] > 0 if kind == "binary" else logits.argmax(1)\n',
        '    index = logits[:, 0] >= 0 if kind == "binary" else logits.argmax(1)\n',
        "binary predict: a zero logit predicts the positive class (sklearn: the negative)",
        "tie",
    ),
    Bug(
        "_predict",
        "            if i < len(layers) - 1:\n                H = _host_activation(activation, H)\n",
        "            if i < len(layers):\n                H = _host_activation(activation, H)\n",
        "host prediction of hidden-layer models applies the activation to the output layer too",
    ),
    Bug(
        "_predict",
        "        return (logits > cut).astype(dtype)\n",
        "        return (logits >= cut).astype(dtype)\n",
        "multilabel predict: a probability equal to the threshold predicts 1 (MLPClassifier: > threshold)",
        "tie",
    ),
    Bug(
        "_predict",
        "        return np.column_stack([log_expit(-logits[:, 0]), log_expit(logits[:, 0])])\n",
        "        return np.column_stack([log_expit(logits[:, 0]), log_expit(-logits[:, 0])])\n",
        "binary predict_log_proba columns in the wrong class order",
        "class order",
    ),
    # ------------------------------------------------------------------ _data
    Bug(
        "_data",
        "    return float(np.sum(weight))\n",
        "    return float(np.sum(weight, dtype=np.float32))\n",
        "weight sum S accumulated in float32",
        "float32",
    ),
    Bug(
        "_data",
        "    sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, "
        "ensure_non_negative=True)\n    return X, y, sample_weight\n",
        "    sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)\n    "
        "return X, y, sample_weight\n",
        "negative sample weights accepted by fit",
        "weights",
    ),
    # ------------------------------------------------------------------ _multilabel
    Bug(
        "_multilabel",
        "        if not np.all(np.isfinite(pos_weight)) or np.any(pos_weight < 0):\n",
        "        if not np.all(np.isfinite(pos_weight)):\n",
        "a negative pos_weight accepted",
        "pos_weight",
    ),
    Bug(
        "_multilabel",
        "            return np.where(both, negative / np.where(both, positive, 1), 1.0)\n",
        "            return np.where(both, total / np.where(both, positive, 1), 1.0)\n",
        "pos_weight='balanced' is total/positives instead of negatives/positives",
        "pos_weight",
    ),
    Bug(
        "_multilabel",
        "        importance = np.ones_like(Y) if pos_weight is None else np.where(Y == 1, pos_weight, 1.0)\n",
        "        importance = np.ones_like(Y)\n",
        "multilabel summary ignores pos_weight",
        "pos_weight",
    ),
    Bug(
        "_multilabel",
        "            return dask.compute((Y * sample_weight[:, None]).sum(axis=0), sample_weight.sum())\n",
        "            return dask.compute(Y.sum(axis=0), Y.shape[0])\n",
        "Dask multilabel pos_weight='balanced' from row counts, ignoring sample_weight",
        "weight_sum",
        ["tests/test_dask.py"],
    ),
    # ------------------------------------------------------------------ _cv
    Bug(
        "_cv",
        "            Cs = np.logspace(-4, 4, self.Cs)\n",
        "            Cs = np.logspace(-3, 3, self.Cs)\n",
        "Cs=int grid over 1e-3..1e3 instead of LogisticRegressionCV's 1e-4..1e4",
        "default",
    ),
    Bug(
        "_cv",
        "            C, l1_ratio = float(np.mean(Cs[best_c])), float(np.mean(ratios[best_r]))\n",
        "            C, l1_ratio = float(np.median(Cs[best_c])), float(np.mean(ratios[best_r]))\n",
        "refit=False: C_ is the median of the folds' best Cs instead of the mean",
    ),
    Bug(
        "_cv",
        "        weights = class_weights(self.class_weight, classes=targets.classes, "
        "y=y, sample_weight=sample_weight)\n",
        "        weights = class_weights(self.class_weight, classes=targets.classes, y=y)\n",
        "CV: 'balanced' class weights ignore sample_weight",
        "weights",
    ),
    # ------------------------------------------------------------------ _batched
    Bug(
        "_batched",
        "    strength = torch.where(finite, 1.0 / (C_t * S_group), torch.zeros_like(C_t))\n",
        "    strength = torch.where(finite, 1.0 / C_t, torch.zeros_like(C_t))\n",
        "batched CV penalty not divided by each fold's weight sum",
        "weight_sum",
    ),
    Bug(
        "_batched",
        "    if head < n:\n        parts.append(A[head:].sum(0, keepdim=True))\n",
        "    if head < n - 1:\n        parts.append(A[head:].sum(0, keepdim=True))\n",
        "blocked objective sum drops a lone trailing row (n % 64 == 1): off by one",
        "off-by-one",
    ),
    # ------------------------------------------------------------------ _newton
    Bug(
        "_newton",
        "        H /= criterion.weight_sum / unit\n",
        "        H /= X.shape[0] / unit\n",
        "Newton-Cholesky Hessian divided by the row count instead of the weight sum",
        "weight_sum",
    ),
    Bug(
        "_newton",
        "            if l2 == 0:\n                free -= p\n",
        "            if l2 == 0:\n                free -= 1\n",
        "unpenalised multinomial Newton: only the last intercept pinned (singular Hessian, L-BFGS fallback)",
    ),
    # ------------------------------------------------------------------ _net
    Bug(
        "_net",
        "        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + self.epoch()) % (1 << 63))\n",
        "        generator = torch.Generator().manual_seed((self.seed * 1_000_003) % (1 << 63))\n",
        "mini-batches shuffled the same way every epoch",
    ),
    # ------------------------------------------------------------------ stop 31
    Bug(
        "_solvers",
        "            for slot, column in ((k, 1 + i), (capacity + k, 1 + len(new) + i)):\n",
        "            for slot, column in ((k, 1 + len(new) + i), (capacity + k, 1 + i)):\n",
        "L-BFGS curvature memory: a new pair's s and y Gram entries swapped",
    ),
    Bug(
        "_solvers",
        "            [products[0][k] for k in ys],\n",
        "            [products[0][k] for k in order],\n",
        "L-BFGS curvature memory: the projections of g on the y rows taken from the s rows",
    ),
    Bug(
        "_kernels",
        "    squares = X.values()[lo:hi].to(torch.float64) ** 2 * row_weight\n",
        "    squares = X.values()[lo:hi].to(torch.float64) * row_weight\n",
        "sparse column moments (sparse preconditioner, CV diagonal scaling): first moments instead of second",
    ),
    Bug(
        "_training",
        "        ends = [max(start + 1, min(end, stop - 1)) for start, end, stop in zip("
        "starts, ends, stops, strict=True)]\n",
        "        ends = [max(start + 1, min(end, stop)) for start, end, stop in zip("
        "starts, ends, stops, strict=True)]\n",
        "sparse preconditioner's sample: each block one row over its budget (off by one)",
        "off-by-one",
    ),
    Bug(
        "_targets",
        "            return classes, (torch.cumsum(present, 0) - 1)[shifted]\n",
        "            return classes, torch.cumsum(present, 0)[shifted]\n",
        "labels encoded by counting: codes off by one",
        "off-by-one",
    ),
    # ------------------------------------------------------------------ stop 32
    Bug(
        "_threads",
        "    torch.set_num_threads(outer)\n    try:\n",
        "    torch.set_num_threads(inner)\n    try:\n",
        "a CV batch's large products stay on the one-thread rule's single thread",
    ),
    Bug(
        "_batched",
        "            y = g_v - pg_v\n",
        "            y = g_v\n",
        "batched L-BFGS: the whitened curvature pair's y is the new gradient, not its change",
    ),
    Bug(
        "_batched",
        "        self.scale = G.rsqrt().repeat(1, n_outputs).to(dtype)",
        "        self.scale = G.reciprocal().repeat(1, n_outputs).to(dtype)",
        "CV diagonal scaling by the inverse of each column's curvature bound, not its inverse square root",
    ),
    Bug(
        "_batched",
        "        too_wide = self.width > MAX_WHITENED_WIDTH or WHITENING_VALUES_PER_ENTRY * self.width**2 > "
        "self.design_values\n",
        "        too_wide = self.width > MAX_WHITENED_WIDTH\n",
        "CV whitens sparse designs with few values per column (50 factors of width^2 cost more than the evaluations)",
    ),
    # ------------------------------------------------------------------ stop 33
    Bug(
        "_solvers",
        "        return points.get(t, x) if t > 0 else x, f_new, g_new, t, n_evals\n",
        "        return points[max(points)] if t > 0 else x, f_new, g_new, t, n_evals\n",
        "L-BFGS moves to the longest step its line search tried, not the step it accepted",
    ),
    Bug(
        "_solvers",
        "        if self._params_at is not x_new:\n",
        "        if self._params_at is x:\n",
        "L-BFGS leaves the parameters at the last trial point when the line search accepted an earlier one",
    ),
    Bug(
        "_objective",
        "    row_scale = row_scale.mul_(scale * unit).to(residual.dtype)  # weight * scale, bitwise\n",
        "    row_scale = row_scale.to(residual.dtype)  # weight * scale, bitwise\n",
        "closed-form gradient not divided by the weight sum (the value is)",
    ),
    Bug(
        "_objective",
        "            terms.append((1 - l1_ratio) / 2 * torch.sum(W * W, dtype=torch.float64))\n",
        "            terms.append((1 - l1_ratio) * torch.sum(W * W, dtype=torch.float64))\n",
        "L2 penalty's value twice its gradient's integral (value and gradient disagree)",
    ),
    Bug(
        "_solvers",
        "                        stacked = torch.cat([last[drop:m], s.unsqueeze(0), "
        "last[m + drop :], y.unsqueeze(0)])\n",
        "                        stacked = torch.cat([last[drop:m], s.unsqueeze(0), "
        "last[m : 2 * m - drop], y.unsqueeze(0)])\n",
        "L-BFGS's kept stack of pairs keeps the dropped pair's gradient change (rows shifted against the steps)",
    ),
    Bug(
        "_solvers",
        '        state.update(x=x, f=f, g=g, grad_max=grad_max, func_evals=state.get("func_evals", 0) + 1)\n',
        '        state.update(x=x, f=f, g=g, func_evals=state.get("func_evals", 0) + 1)\n',
        "L-BFGS evaluate() keeps a new gradient with the old point's grad_max (a NaN gradient then passes the check)",
    ),
    # ------------------------------------------------------------------ stop 34
    Bug(
        "_kernels",
        "            list(pool.map(task, starts))\n",
        "            list(pool.map(task, starts[1:]))\n",
        "the threaded NumPy work (the column-major copy, the large data's key) skips its first chunk of rows",
        tests=["tests/test_threads.py", "tests/test_tensors.py"],
    ),
    Bug(
        "_training_set",
        "        max_abs = self.max_abs if len(part.rows) == self.X.shape[0] else None\n",
        "        max_abs = self.max_abs\n",
        "a copy of fewer rows (zero weights dropped, a validation split) takes X's largest value as its own",
        tests=["tests/test_tensors.py"],
    ),
    Bug(
        "_data",
        '        max_abs = float(torch.tensor(max_abs, dtype=dtype, device="cpu"))\n',
        "        max_abs = float(max_abs)\n",
        "the known largest value not cast to the training dtype (a float64 value beyond float32 is not refused)",
    ),
    Bug(
        "_tensor_data",
        "    settled_at = torch.searchsorted(k[~tied], anchor, right=True) "
        "+ torch.arange(len(anchor), device=device)\n",
        "    settled_at = torch.searchsorted(k[~tied], anchor, right=True)\n",
        "settled tied rows put back at the kept rows' positions, not their merged ones",
    ),
    Bug(
        "_batched",
        "        if positions is None or positions.numel() != P * n:\n",
        "        if positions is None:\n",
        "the multinomial batch's target positions kept for the first batch size after problems leave",
    ),
    Bug(
        "_batched",
        "        residual = probabilities.mul_(weight / total).view(-1)"
        ".index_add_(0, positions, weight.view(-1), alpha=-1)\n",
        "        residual = probabilities.mul_(weight / total).view(-1).index_add_(0, positions, weight.view(-1))\n",
        "the multinomial batch's residual adds the one-hot target instead of subtracting it",
    ),
    Bug(
        "_rows",
        "        order[runs] = rows[np.lexsort((key[rows], sorted_bits[runs]))]\n",
        "        order[runs] = rows[np.lexsort((rows, sorted_bits[runs]))]\n",
        "keys equal in float32 but not in float64 ordered by their rows' positions, not by their values",
    ),
    Bug(
        "_cv",
        "                np.add.at(train_counts[:, k], train, 1.0)\n",
        "                train_counts[train, k] = 1.0\n",
        "CV: a training index given twice in a split (bootstrap folds) counted once",
        "weights",
    ),
    Bug(
        "_targets",
        "    bad = ~np.isfinite(weights) | (weights < 0)\n",
        "    bad = ~np.isfinite(weights)\n",
        "a negative class weight accepted (an objective unbounded below)",
    ),
    Bug(
        "_compare",
        '    return solver if solver in ("lbfgs", "newton-cholesky") else "lbfgs"\n',
        '    return "lbfgs"\n',
        "compare: scikit-learn runs lbfgs against our newton-cholesky",
    ),
    Bug(
        "_multilabel",
        "            both = (positive > 0) & (negative > 0)\n",
        "            both = positive > 0\n",
        "pos_weight='balanced' gives a label that is always on the weight 0 (its loss removed)",
        "weights",
    ),
    Bug(
        "_training_set",
        "    if len(split[1]) < 2:  # MLPClassifier's rule and words: one row cannot tell whether the loss improves\n",
        "    if len(split[1]) < 1:  # MLPClassifier's rule and words: one row cannot tell whether the loss improves\n",
        "early stopping on a validation set of one row",
        tests=["tests/test_multilabel.py"],
    ),
    Bug(
        "_targets",
        "        common = torch.uint8\n",
        "        common = torch.bool\n",
        "partial_fit's boolean labels sent to torch.searchsorted, which takes no booleans",
        tests=["tests/test_partial_fit.py"],
    ),
    Bug(
        "_tensor_data",
        "    X = X.detach().resolve_conj().resolve_neg()  # a view with the negative bit set cannot be read by NumPy\n",
        "    X = X.detach()\n",
        "a tensor view with the negative bit set read by NumPy in the torch preparation",
    ),
    Bug(
        "_rows",
        "    counted = (X, target) if len(positive) == X.shape[0] else (X[positive], target[positive])\n",
        "    counted = (X, target)\n",
        "the tie bound measures the zero-weight rows too (their large values change the order of the sums)",
        "weights",
        tests=["tests/test_contracts_weights.py"],
    ),
    Bug(
        "_logistic",
        "            and self.l1_ratio > 0\n",
        "            and self.l1_ratio > 1\n",
        "multinomial intercepts with an L1 part left uncentred (their sum drifts)",
        tests=["tests/test_l1.py"],
    ),
    # Stop 37.
    Bug(
        "_cv",
        "            l1 = ratios > 0\n",
        "            l1 = ratios > 1\n",
        "CV path: multinomial intercepts with an L1 part left uncentred (coefs_paths_ off saga's)",
        tests=["tests/test_cv.py"],
    ),
    Bug(
        "_cv",
        "        if dtype != torch.float64 and stalled.any():\n",
        "        if False:\n",
        "CV at float32: problems stalled above tol counted as converged (no float64 continuation)",
        tests=["tests/test_cv.py"],
    ),
    Bug(
        "_rows",
        "        return int(np.diff(X.tocsr().indptr).max(initial=0))\n",
        "        return X.shape[1]\n",
        "a sparse row's rounding bound counts the width, not its stored entries (wide text: every row tied)",
        tests=["tests/test_contracts_rows.py"],
    ),
    Bug(
        "_solvers",
        '        copied["pairs"] = [(s.clone(), y.clone()) for s, y in copied["pairs"]]\n',
        "        pass\n",
        "state_dict snapshots share the curvature buffer's rows, which later steps overwrite",
    ),
    Bug(
        "_persistence",
        "    _require(max(opened, closed) <= _MAX_CONTAINERS, "
        'f"the header holds {max(opened, closed)} JSON arrays and objects")\n',
        "",
        "model files: no bound on the header's containers (a 16 MiB header of empty lists: 30 s, 1 GB)",
        "files",
    ),
    Bug(
        "_multilabel",
        "        if not np.all((threshold > 0) & (threshold < 1)):  # NaN included\n",
        "        if np.any((threshold <= 0) | (threshold >= 1)):\n",
        "a NaN per-label threshold accepted (that label never predicted)",
    ),
    Bug(
        "_callbacks",
        "    for state in states:\n",
        "    for state in ():\n",
        "Adam's overflowed state (features near 1e30 in float32) not checked: an all-zero model, silently",
        tests=["tests/test_extreme_values.py"],
    ),
    # ------------------------------------------------------------------ stop 38
    Bug(
        "_training",
        "            if not (at_start and self._converged_at_start(net, batch, stopping)):\n",
        "            if True:\n",
        "a warm start at the optimum (or a cold start within tol) iterates (n_iter_ [1]-[2], coefficients moved) "
        "where scikit-learn takes none",
        tests=["tests/test_logistic_api.py"],
    ),
    Bug(
        "_base",
        "            follow_labels(self, y)\n",
        "",
        "array-API mode: classes_ stays NumPy (cross_val_predict(method='predict_proba') on tensors fails)",
        tests=["tests/test_tensors.py"],
    ),
    Bug(
        "_base",
        '        if previous is None or (previous == "multilabel") == (kind == "multilabel"):\n',
        "        if True:\n",
        "1-D labels accepted after an indicator matrix (k sigmoids reread as a k-class softmax), or the reverse",
        tests=["tests/test_multilabel.py"],
    ),
    Bug(
        "_incremental",
        "        if self.fit_intercept or not np.any(self._fitted_layers(dense=True)[-1][1] != 0):\n",
        "        if True:\n",
        "partial_fit with fit_intercept=False set between calls drops the learned intercepts",
        tests=["tests/test_multilabel.py"],
    ),
    Bug(
        "_base",
        "        if issubclass(kind, LRScheduler) and partial:\n",
        "        if False:\n",
        "partial_fit takes an LRScheduler (restarted every call; torch's KeyError on the second)",
        tests=["tests/test_partial_fit.py"],
    ),
    Bug(
        "_dask",
        '    y = _row_blocks(_column_or_1d(y), X.chunks[0], "y")\n',
        '    y = _row_blocks(y, X.chunks[0], "y")\n',
        "dask: a one-column y is not read as its column (another model than in memory)",
        tests=["tests/test_dask.py"],
    ),
    Bug(
        "_inference",
        "        if np.any(importance != 1):\n",
        "        if False:\n",
        "summary: class weights read as copies of the rows without a warning (p-values far too small)",
        tests=["tests/test_inference.py"],
    ),
    Bug(
        "_base",
        "            incremental = self._mini_batch()\n",
        "            incremental = False\n",
        "a mini-batch fit drops its optimizer state: partial_fit after fit restarts the moments and epoch count",
        tests=["tests/test_partial_fit.py", "tests/test_fitted_state.py"],
    ),
    Bug(
        "_net",
        "            if self._callback_stop and not self._user_interrupt:\n",
        "            if True:\n",
        "Ctrl-C during training swallowed (skorch's partial_fit): a half-trained model published",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_threads",
        "    _register_fork_hook()  # every fit passes here: "
        "its pool (or a later one's) must not reach a forked child\n",
        "",
        "a process forked after a fit uses torch's pool (GNU OpenMP hangs there)",
    ),
    Bug(
        "_compare",
        ' or reference["growth"] > GROWTH_WITHOUT_OPTIMUM\n',
        "\n",
        "compare: one class separated from the others without a penalty reported as an optimum",
    ),
    Bug(
        "_inference",
        "            # The likelihood terms slice rows: COO (and BSR/BSC tensors, read as COO) cannot.\n"
        "            X = check_sparse_indices(X).tocsr()",
        "            # The likelihood terms slice rows: COO (and BSR/BSC tensors, read as COO) cannot.\n"
        "            X = check_sparse_indices(X)",
        "summary of COO input (SciPy COO, COO/BSR/BSC tensors) fails in its row slicing",
        tests=["tests/test_inference.py"],
    ),
    Bug(
        "_cv",
        '    kwargs = dict(getattr(scorer, "_kwargs", {}))\n',
        "    kwargs = {}\n",
        "CV: a scorer rebuilt for a fold loses its own arguments (f1_macro scored as binary f1)",
    ),
    Bug(
        "_cv",
        "C=float(Cs[c]), l1_ratio",
        "C=float(Cs[0]), l1_ratio",
        "CV: the scorer's LogisticRegression says the first C at every point of the path",
    ),
    Bug(
        "_cv",
        "                part = np.flatnonzero(part)\n",
        "",
        "CV: boolean-mask folds read as indices",
    ),
    Bug(
        "_multilabel",
        '        if not isinstance(Y, torch.Tensor) and Y.dtype.kind == "O":\n',
        "        if False:\n",
        "multi-label: an object label matrix trains (scikit-learn refuses it) and predicts Python booleans",
    ),
    Bug(
        "_base",
        "            self.coef_ = origin_of(self.intercept_).wrap(self.coef_.toarray())\n",
        "            self.coef_ = self.coef_.toarray()\n",
        "densify after an array-API fit leaves coef_ NumPy beside tensor intercept_",
        tests=["tests/test_tensors.py"],
    ),
    Bug(
        "_inference",
        '        if self._kind != "multilabel" and len(np.unique(counted)) < 2:\n',
        '        if self._kind != "multilabel" and len(np.unique(counted)) < 1:\n',
        "summary of a y with one class: degenerate statistics instead of an error",
        tests=["tests/test_inference.py"],
    ),
    Bug(
        "_multilabel",
        "        return len(self.coefs_) + 1\n",
        "        return len(self.coefs_)\n",
        "n_layers_ counts the weight matrices, not MLPClassifier's layers",
    ),
    Bug(
        "_modules",
        '        factor = 2.0 if activation == "logistic" else 6.0  # MLPClassifier\'s _init_coef\n',
        "        factor = 6.0\n",
        "logistic hidden units start from the bounds of the others (MLPClassifier's factor 2 lost)",
        tests=["tests/test_multilabel.py"],
    ),
    Bug(
        "_training",
        "    factor = 1 / torch.hypot(scale, torch.full_like(scale, 2 * math.sqrt(l2)))\n",
        "    factor = torch.rsqrt(scale**2 + 4 * l2)\n",
        "column preconditioner squares max |x_j|: a column beyond 1.34e154 gets factor 0, its coefficient frozen at 0",
        tests=["tests/test_extreme_values.py"],
    ),
    Bug(
        "_objective",
        "    if not math.isfinite(S):\n",
        "    if False:\n",
        "weights summing beyond float64's range reach training (a message blaming the features)",
        tests=["tests/test_extreme_values.py"],
    ),
    Bug(
        "_targets",
        "        known = np.isin(y, classes)\n",
        "        raise\n        known = np.isin(y, classes)\n",
        "partial_fit: object string labels against numeric classes raise NumPy's raw TypeError",
        tests=["tests/test_partial_fit.py"],
    ),
    # ------------------------------------------------------------------ stop 39 (review B: thin tests)
    Bug(
        "_cv",
        "            total = scores.sum(axis=0).T  # (n_cs, n_l1), summed over folds in sklearn's order\n"
        "            best_c, best_r = np.unravel_index(np.argmax(total), total.shape)\n",
        "            total = scores.sum(axis=0)  # (n_l1, n_cs), summed over folds\n"
        "            best_r, best_c = np.unravel_index(np.argmax(total), total.shape)\n",
        "CV refit: a tie between (C, l1_ratio) points goes to the first l1_ratio, not the first C (sklearn's order)",
        "tie",
        tests=["tests/test_cv.py"],
    ),
    Bug(
        "_cv",
        "            flat = scores.transpose(0, 2, 1).reshape(len(scores), -1)  # (n_folds, n_cs * n_l1)\n",
        "            flat = scores.reshape(len(scores), -1)  # (n_folds, n_cs * n_l1)\n",
        "CV refit=False with several l1_ratios: each fold's best point unravelled in the wrong order (wrong C_, coef_)",
        tests=["tests/test_cv.py"],
    ),
    Bug(
        "_cv",
        '    if len(classes) <= 2 and "pos_label" in parameters:\n',
        '    if len(classes) < 2 and "pos_label" in parameters:\n',
        "CV scorer: binary problems get no pos_label=classes[-1] (scoring='f1' on string labels fails, "
        "0/1 labels coded -1/1 score the wrong class)",
        "off-by-one",
        tests=["tests/test_cv.py"],
    ),
    Bug(
        "_cv",
        "max_iter=self.max_iter - n_iter[some])\n",
        "max_iter=self.max_iter)\n",
        "CV float32 continuation gets a fresh max_iter: n_iter_ beyond max_iter, no ConvergenceWarning at max_iter",
        tests=["tests/test_cv.py"],
    ),
    Bug(
        "_cv",
        "            split_params, score_params = self._routed(params, sample_weight if weights_given else None)\n",
        "            split_params, score_params = self._routed(params, sample_weight)\n",
        "CV with metadata routing: the validated ones passed as sample_weight "
        "(UnsetMetadataPassedError without weights)",
        tests=["tests/test_cv.py"],
    ),
    Bug(
        "_multilabel",
        '        return float(min(curve)) if curve else float("nan")\n',
        '        return float(curve[-1]) if curve else float("nan")\n',
        "best_loss_ is the last epoch's loss, not MLPClassifier's min(loss_curve_)",
    ),
    Bug(
        "_incremental",
        '        seed = partial["seed"] if partial is not None else self._seed()\n',
        "        seed = self._seed()\n",
        "partial_fit draws a new shuffling seed every call (random_state a RandomState: not fit's continuation)",
        tests=["tests/test_partial_fit.py"],
    ),
    Bug(
        "_threads",
        "        _local.outer = own\n        yield\n    finally:\n        _local.outer = outer\n        if counted:\n"
        "            with _lock:\n                _running -= 1\n",
        "        _local.outer = own\n        yield\n        with _lock:\n            _running -= 1\n"
        "    finally:\n        _local.outer = outer\n",
        "a failed small fit leaves the running count raised: a later user count of 1 is replaced by a stale default",
    ),
    Bug(
        "_state",
        "    except BaseException:\n",
        "    except Exception:\n",
        "Ctrl-C during fit leaves the estimator half-updated (n_features_in_ of the new data, coef_ of the old)",
        tests=["tests/test_fitted_state.py", "tests/test_partial_fit.py"],
    ),
    Bug(
        "_inference",
        "            if moved > 0.1:\n",
        "            if moved > 1:\n",
        "summary: coef_ up to 1 standard error from the optimum not warned about (the docstring says 0.1)",
        tests=["tests/test_inference.py"],
    ),
    Bug(
        "_net",
        "    def fit_loop(self, *args, **kwargs):\n        self._callback_stop = False\n",
        "    def fit_loop(self, *args, **kwargs):\n",
        "Ctrl-C in the float64 continuation swallowed (the float32 phase's callback stop still flagged)",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_summary_table",
        '        return "<pre>" + self.as_text().replace("&", "&amp;").replace("<", "&lt;") + "</pre>"\n',
        '        return "<pre>" + self.as_text().replace("<", "&lt;").replace("&", "&amp;") + "</pre>"\n',
        "summary's notebook view escapes twice: an underflowed p-value shows as '&lt;5e-324'",
        tests=["tests/test_summary_statistics.py", "tests/test_inference.py"],
    ),
    Bug(
        "_training",
        "    factor = torch.where(torch.isfinite(factor), factor, torch.ones_like(factor))  "
        "# columns of zeros, no L2\n",
        "",
        "C=inf preconditioner: a column of zeros gets an infinite factor (NaN parameters) when columns' scales differ",
        tests=["tests/test_preconditioner.py"],
    ),
    Bug(
        "_objective",
        "    elif small:\n",
        "    elif False:\n",
        "weights whose 1/(C S) overflows reach training (a message blaming the features, or a ZeroDivisionError)",
        tests=["tests/test_extreme_values.py"],
    ),
    Bug(
        "_inference",
        "        converged = all(part[2] for part in parts)\n",
        "        converged = any(part[2] for part in parts)\n",
        "multi-label summary says converged when one label's Newton found no optimum",
        tests=["tests/test_summary_statistics.py"],
    ),
    # ------------------------------------------------------------------ stop 39
    Bug(
        "_persistence",
        '        _build(type(estimator), *_parse(content, path), "cpu")\n',
        "        _parse(content, path)\n",
        "save no longer reads its file back with load's checks: a label of 5000 characters is saved, then refused",
        tests=["tests/test_model_files.py"],
    ),
    Bug(
        "_persistence",
        '        return np.array(values, dtype=f"<U{max(1, max(map(len, values)))}")\n',
        "        return np.array(values, dtype=dtype)\n",
        "labels of a wide declared string dtype are read in that width (a 1 MB file asks for gigabytes)",
        tests=["tests/test_model_files.py"],
    ),
    Bug(
        "_export",
        "    if outside:\n",
        "    if False:\n",
        "ONNX export wraps uint64 labels at or above 2**63 to negative int64 labels",
        tests=["tests/test_onnx.py"],
    ),
    Bug(
        "_training",
        '        if self._mini_batch() and batch_size != "auto" and batch_size > n_rows:\n',
        '        if self._mini_batch() and batch_size != "auto" and batch_size > 2 * n_rows:\n',
        "a batch_size up to twice the training rows is clipped without MLPClassifier's warning",
        tests=["tests/test_contracts_logistic.py"],
    ),
    Bug(
        "_targets",
        "    if classes.dtype not in TORCH_NUMPY_DTYPES or y.dtype not in _PROMOTED:\n",
        "    if y.dtype not in _PROMOTED:\n",
        "partial_fit(classes=uint32 array) with int64 labels: torch's promotion RuntimeError",
        tests=["tests/test_edge_cases.py"],
    ),
    Bug(
        "_training",
        "            largest=train.weight.max(),\n",
        "            largest=None,\n",
        "weights beyond float32 reach a float32 fit, which fails blaming the features",
        tests=["tests/test_extreme_values.py"],
    ),
    Bug(
        "_compare",
        "            if one_thread < fit_time:\n",
        "            if False:\n",
        "compare times scikit-learn on its default BLAS threads only (a busy machine reverses who wins)",
        tests=["tests/test_compare.py"],
    ),
    Bug(
        "_cv",
        "            refuse_mps_training(device)\n",
        "",
        "TorchLogisticClassifierCV trains on MPS (float64 there: torch's TypeError) instead of refusing in user terms",
        tests=["tests/test_edge_cases.py"],
    ),
    Bug(
        "_kernels",
        "    except (TypeError, ValueError):\n",
        "    except TypeError:\n",
        "big-endian labels predicted from a tensor: torch's byte-order ValueError instead of NumPy labels",
        tests=["tests/test_edge_cases.py"],
    ),
    # ------------------------------------------------------------------ stop 40
    Bug(
        "_modules",
        "        if len(shape) != 2 or shape[0] != n_in or (last and shape[1] != n_outputs):\n",
        "        if len(shape) != 2 or (last and shape[1] != n_outputs):\n",
        "coef_ assigned with the wrong number of features is not refused in its name (torch's matmul error in save)",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_persistence",
        "    if model.fit_intercept or not np.any(bias != 0):\n",
        "    if model.fit_intercept or not np.all(bias != 0):\n",
        "save with fit_intercept=False drops intercepts of which only some are non-zero (the loaded model "
        "predicts otherwise)",
        tests=["tests/test_fitted_state.py", "tests/test_model_files.py"],
    ),
    Bug(
        "_multilabel",
        "        super().__setitem__(index, value)\n        setattr(self._owner, self._name, list(self))\n",
        "        super().__setitem__(index, value)\n",
        "linear multi-label coefs_[0] = W changes a temporary list only (predictions unchanged, unlike MLPClassifier)",
    ),
    Bug(
        "_tensor_data",
        "    if any(isinstance(a, np.matrix) for a in (X, y, sample_weight)):\n",
        "    if any(isinstance(a, np.matrix) for a in (y, sample_weight)):\n",
        "np.matrix X taken by the tensor fast path: fit accepts what predict and scikit-learn refuse",
        tests=["tests/test_bad_input.py"],
    ),
    Bug(
        "_training",
        "        seed = self._seed() if self._mini_batch() or module is not LinearLogits else 0\n",
        "        seed = self._seed()\n",
        "full-batch linear fits draw a seed from NumPy's global generator (random_state=None), unlike "
        "LogisticRegression",
        tests=["tests/test_determinism.py"],
    ),
    Bug(
        "_newton",
        "        if rcond < torch.finfo(torch.float64).eps and product_dtype is None and X.dtype != torch.float64:\n",
        "        if rcond < torch.finfo(torch.float64).eps and product_dtype is None and X.dtype == torch.float64:\n",
        "a float32 Newton Hessian that does not factorise falls back to L-BFGS without a float64 rebuild",
    ),
    Bug(
        "_training",
        "                tol=self.tol, ftol=ftol_for(dtype), exact=dtype == torch.float64, can_promote=can_promote\n",
        "                tol=self.tol, ftol=ftol_for(dtype), exact=True, can_promote=can_promote\n",
        "float32 newton-cholesky: a stall at float32 rounding is called convergence (no float64 continuation)",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        "_base",
        '            if monitor in ("valid_loss_best", "valid_acc_best", "train_loss_best") and monitor not '
        "in recorded:\n",
        '            if monitor in ("valid_loss_best", "valid_acc_best") and monitor not in recorded:\n',
        "Checkpoint(monitor='train_loss_best') on an L-BFGS fit fails mid-fit with skorch's KeyError",
        tests=["tests/test_bad_input.py"],
    ),
    Bug(
        "_targets",
        "        if np.any(totals == 0):\n",
        "        if np.all(totals == 0):\n",
        "class_weight='balanced' with one zero-weight class: NumPy's divide warning and a refusal of an "
        "infinite weight",
    ),
    Bug(
        "_user_warnings",
        "    return path.startswith(_PACKAGES) or path in _WRAPPERS\n",
        "    return path.startswith(_PACKAGES)\n",
        "warnings from fit are attributed to sklearn/base.py's _fit_context wrapper, not the user's line",
        tests=["tests/test_contracts_logistic.py", "tests/test_inference.py", "tests/test_summary_statistics.py"],
    ),
    Bug(
        "_inference",
        "    return np.flatnonzero((X.min(axis=0) == X.max(axis=0)) & (X[0] != 0))\n",
        "    return np.flatnonzero(X.min(axis=0) == X.max(axis=0))\n",
        "summary: a column of zeros counted as a constant (df_model one too small, the add_constant hint wrong)",
    ),
    Bug(
        "_inference",
        "        llnull = float(np.sum(xlogy(w * Y, share)))\n",
        "        llnull = float(np.sum(w * xlogy(Y, share)))\n",
        "summary: a class whose rows all weigh 0 gives llnull NaN (0 * log 0) and NumPy's warning",
    ),
    Bug(
        "_inference",
        '        k = d if self._kind == "multilabel" else n_reported\n',
        "        k = n_reported\n",
        "multi-label HC1 refused unless the rows exceed every label's parameters together (k is per label)",
    ),
    Bug(
        "_inference",
        "        counted = position[np.asarray(sample_weight) > 0]  # rows of weight 0 count as absent, as "
        "in the fit\n",
        "        counted = position\n",
        "summary with a second class present only in zero-weight rows: degenerate statistics instead of the refusal",
    ),
    Bug(
        "_summary_table",
        '    return f"{value:.0f}" if value.is_integer() else f"{value:.6g}"  # weighted counts need not be whole\n',
        '    return f"{value:g}"\n',
        "summary printout: No. Observations 1234567 shows as 1.23457e+06",
        tests=["tests/test_summary_statistics.py"],
    ),
    Bug(
        "_cv",
        "        if not (np.all(Cs > 0) and C > 0):\n",
        "        if not (np.all(np.isfinite(Cs)) and np.all(Cs > 0) and np.isfinite(C) and C > 0):\n",
        "a TorchLogisticClassifierCV fitted with Cs=[np.inf] is saved, then its file refused by load",
        tests=["tests/test_model_files.py"],
    ),
    Bug(
        "_cv",
        "            l1_ratio = float(np.max(ratios))\n",
        "            l1_ratio = float(np.min(ratios))\n",
        "CV with l1_ratios=[0, 1] at C=1e-42: an L1 strength beyond float32 reaches training (a line-search "
        "failure, not a refusal)",
        tests=["tests/test_extreme_values.py"],
    ),
    Bug(
        "_callbacks",
        '            strength = strength * (1 - group.get("dampening", 0.0)) / (1 - momentum)\n',
        "            strength = strength * (1 - momentum)\n",
        "sgd with momentum: the L1 step scaled down by (1 - m) instead of up by 1 / (1 - m) (penalty 1/100 "
        "of the asked)",
    ),
    Bug(
        "_callbacks",
        '                        second > 0, step / ((second / bias_correction).sqrt() + group["eps"]), '
        "torch.zeros_like(step)\n",
        '                        second >= 0, step / ((second / bias_correction).sqrt() + group["eps"]), '
        "torch.zeros_like(step)\n",
        "adam L1 step: a coordinate whose gradient has been zero so far is pulled by lr * strength / eps "
        "(zero for good)",
    ),
    Bug(
        "_base",
        '            "l1": _l1_totals(net),\n',
        '            "l1": None,\n',
        "partial_fit with an L1 part restarts the L1 totals each call (plain clipping, not the cumulative penalty)",
        tests=["tests/test_l1.py"],
    ),
    # ------------------------------------------------------------------ today's changes (180-199)
    Bug(
        "_newton",
        "        self._fallback.set_preconditioner(self.fallback_preconditioner)\n",
        "",
        "newton-cholesky's fall-back L-BFGS runs unpreconditioned: columns of scales 1e-8..1e8 stop far above the "
        "optimum, called converged",
    ),
    Bug(
        "_newton",
        "        if stalled and not self.exact and self.can_promote:\n",
        "        if stalled and self.can_promote:\n",
        "float32 newton-cholesky continued in float64: a float64 decrease within 64 eps before tol ends the "
        "continuation unconverged ('stopped by a callback' warning)",
    ),
    Bug(
        "_newton",
        "            if self.promote_on_failure and x.dtype != torch.float64:\n",
        "            if self.promote_on_failure:\n",
        "float32 newton-cholesky continued in float64: a line-search failure gives no fall-back to L-BFGS; the run "
        "repeats the same point until max_iter",
    ),
    Bug(
        "_training",
        "        if getattr(stopping, \"promote_\", False):  # L-BFGS's or Newton's float32 stall\n",
        '        if lbfgs and getattr(stopping, "promote_", False):  # L-BFGS\'s float32 stall\n',
        "float32 newton-cholesky stall: no float64 continuation (stops at float32 rounding with a ConvergenceWarning)",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        "_training",
        "                net.optimizer_.promote_on_failure = can_promote\n",
        "                net.optimizer_.promote_on_failure = False\n",
        "float32 newton-cholesky line-search failure falls back to L-BFGS with a warning, not continued in float64",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        # (A fresh max_iter for the float64 continuation was the first bug here: the stopping rules' own limit test
        # made it an equivalent edit.)
        "_newton",
        "            if self._at_limit(net, spent=1):\n",
        "            if self._at_limit(net, spent=1) and not self.exact:\n",
        "newton-cholesky's float64 fall-back to L-BFGS: a run whose max_iter-th iteration meets tol is called "
        "converged (scikit-learn's L-BFGS-B warns)",
    ),
    Bug(
        "_callbacks",
        '        return len(net.history) + spent >= getattr(net, "max_epochs", math.inf)\n',
        '        return len(net.history) + spent > getattr(net, "max_epochs", math.inf)\n',
        "L-BFGS (and Newton's fall-back): a run whose max_iter-th iteration meets tol is called converged (no "
        "ConvergenceWarning, unlike SciPy)",
        tests=["tests/test_convergence.py"],
    ),
    Bug(
        "_batched",
        "        done = (at_tol | (stalled & ~failed_search)) & ~at_limit\n",
        "        done = at_tol | (stalled & ~failed_search)\n",
        "batched CV L-BFGS: a fold whose last allowed iteration meets tol is marked converged (no warning)",
        tests=["tests/test_convergence.py"],
    ),
    Bug(
        "_training_set",
        "        kept = counts - held\n",
        "        kept = counts\n",
        "early stopping trains on the held-out rows too (the validation loss is measured on training rows)",
        tests=["tests/test_contracts_training.py", "tests/test_multilabel.py", "tests/test_tensors.py"],
    ),
    Bug(
        "_training_set",
        "            factor = share[at] / counts[at]\n",
        "            factor = share[at]\n",
        "early stopping with repeated rows: a merged row's summed weight multiplied by its share, not divided "
        "(repeated rows weigh c times too much)",
        tests=["tests/test_contracts_training.py", "tests/test_multilabel.py", "tests/test_tensors.py"],
    ),
    Bug(
        "_rows",
        "    merged = np.diff(np.append(starts, len(idx)))\n",
        "    merged = np.ones(len(starts), dtype=np.int64)\n",
        "early stopping counts each distinct row once (a row repeated 900 times in 1000 can be held out whole)",
        tests=["tests/test_multilabel.py", "tests/test_tensors.py"],
    ),
    Bug(
        "_training_set",
        "    return np.bincount(given[split[1]], minlength=len(counts))\n",
        "    return np.bincount(given[split[0]], minlength=len(counts))\n",
        "early stopping holds out 1 - validation_fraction of the rows (train and validation parts swapped)",
        tests=["tests/test_contracts_training.py", "tests/test_multilabel.py", "tests/test_tensors.py"],
    ),
    Bug(
        "_cv",
        "        model.coef_, model.intercept_, model.classes_ = self.coef_, self.intercept_, self.classes_\n",
        "        model.coef_, model.classes_ = self.coef_, self.classes_\n",
        "TorchLogisticClassifierCV: an assigned intercept_ is ignored by predict, save and ONNX export",
    ),
    Bug(
        "_inference",
        "    rounding = VALUE_RESOLUTION * (abs(value) + trial.value_scale)\n",
        "    rounding = VALUE_RESOLUTION * abs(value)\n",
        "summary polish: the linear predictor's rounding not allowed (offset features: line search cycles, "
        "refused or warned)",
    ),
    Bug(
        "_inference",
        "            curvature = (null_space * null_space).T @ torch.diagonal(H)\n",
        "            curvature = torch.diagonal(H).mean() * (null_space * null_space).sum(dim=0)\n",
        "summary's class-shift curvature at the mean diagonal again: an offset column (1e8 curvature) makes "
        "multinomial SEs 'singular'",
    ),
    Bug(
        "_inference",
        "        gradient_scale += G.abs().T @ f + _outer_rows(c * drift, X_abs).T @ f\n",
        "        gradient_scale += G.abs().T @ f\n",
        "summary: the gradient's rounding bound ignores the linear predictor's rounding (offset features: "
        "'not at the optimum' warnings)",
    ),
    Bug(
        "_dask",
        "            smallest=smallest,\n",
        "            smallest=None,\n",
        "dask float32 fit with weights below float32's normal range (1e-40): trained on flushed weights, not refused",
    ),
    Bug(
        "_net",
        "            size = X.shape[0] if isinstance(X, torch.Tensor) else get_len(X)\n",
        "            size = len(batch)\n",
        "full-batch (L-BFGS / Newton) fits record train_batch_size 2 (the (X, y) pair) in history_, not the rows",
        tests=["tests/test_logistic_api.py"],
    ),
    Bug(
        "_multilabel",
        '    return dtype if dtype is not None and np.dtype(dtype).kind in "biu" else None\n',
        '    return dtype if dtype is not None and np.dtype(dtype).kind in "iu" else None\n',
        "multi-label fit on pandas 'boolean' label columns predicts float64 0/1, not booleans",
    ),
    Bug(
        "_logistic",
        "        self._n_outputs = 1 if n_classes == 2 else n_classes\n",
        "        self._n_outputs = n_classes\n",
        "binary coef_/intercept_ assigned to an unfitted TorchLogisticClassifier: predict/save see two outputs "
        "for one row of coefficients",
        tests=["tests/test_fitted_state.py"],
    ),
    # ------------------------------------------------------------------ session 206f49c.. (MKL threads, mini-batch
    # threads, centred intercepts, float64 L1 totals, sparse index checks, CV batch state, first step, device)
    Bug(
        "_threads",
        '        if "mkl_get_max_threads()" in line:\n',
        '        if "omp_get_max_threads()" in line:\n',
        "MKL's thread count read from OpenMP's line of parallel_info (1 under threadpool_limits(1)): a small fit "
        "inside the limit multiplies on every MKL thread again",
        "threads",
    ),
    Bug(
        "_threads",
        "        if torch.get_num_threads() != 1 or mkl not in (None, 1):\n",
        "        if torch.get_num_threads() != 1:\n",
        "threads_for: MKL's count read but not acted on (OpenMP's 1 under threadpool_limits(1) skips the setting)",
        "threads",
    ),
    Bug(
        "_threads",
        '    threadpoolctl.threadpool_limits(limits=1, user_api="openmp")\n',
        '    threadpoolctl.threadpool_limits(limits=1, user_api="blas")\n',
        "MKL's count given back with the BLAS limit set again, not OpenMP's: the user's threadpool_limits(1) is "
        "lifted by a small fit inside it",
        "threads",
    ),
    Bug(
        "_threads",
        "    return n_values * min(batch_size, n_rows) // max(n_rows, 1)\n",
        "    return n_values * max(batch_size, n_rows) // max(n_rows, 1)\n",
        "step_values: max for min (a step reads all the data's values): mini-batch epochs of large data in small "
        "batches run on torch's pool again",
        "threads",
    ),
    Bug(
        "_threads",
        "    if on_one_thread(n_values):\n        return contextlib.nullcontext()\n",
        "    if not on_one_thread(n_values):\n        return contextlib.nullcontext()\n",
        "mini_batch_threads: condition inverted (large data keep the pool whatever their batches)",
        "threads",
    ),
    Bug(
        "_callbacks",
        "    def on_epoch_end(self, net, **kwargs):\n        bias = net.module_.linear.bias\n",
        "    def on_train_end(self, net, **kwargs):\n        bias = net.module_.linear.bias\n",
        "multinomial intercepts re-centred once at the end of fit / each partial_fit call, not every epoch "
        "(fit's epochs no longer bitwise its partial_fit calls')",
    ),
    Bug(
        "_callbacks",
        "                applied = self.applied_.setdefault(key, torch.zeros_like(W, dtype=torch.float64))\n",
        "                applied = self.applied_.setdefault(key, torch.zeros_like(W))\n",
        "L1Proximal: the received penalty's sum starts in the weights' dtype (float32 training sums it in float32; "
        "only a partial_fit continuation's start is float64)",
    ),
    Bug(
        "_training",
        '        if mini_batch and kind == "multinomial" and self._centred_multinomial and self.fit_intercept:\n',
        '        if mini_batch and kind == "multinomial" and self._centred_multinomial:\n',
        "intercept centring added for fit_intercept=False (the callback reaches a model without intercepts)",
    ),
    Bug(
        "_training",
        "        epochs = mini_batch_threads(data.n_values, train.n_samples, batch_size)\n",
        "        epochs = mini_batch_threads(data.n_values, batch_size, train.n_samples)\n",
        "fit's mini-batch thread context: rows and batch size swapped (one step judged as the whole data: the pool)",
        "threads",
        tests=["tests/test_threads.py"],
    ),
    Bug(
        "_incremental",
        "            with threads_for(step_values(data.n_values, train.n_samples, batch_size)):\n",
        "            with threads_for(step_values(data.n_values, data.n_rows, batch_size)):\n",
        "partial_fit judges a step by the rows given, not the distinct rows the batches are cut from: data of "
        "repeated rows in batches of all their distinct rows train on one thread (fit: on the pool)",
        "threads",
        tests=["tests/test_threads.py"],
    ),
    Bug(
        "_predict",
        "            X = X.astype(np.float64, copy=False) if sp.issparse(X) else X\n",
        "            X = X.astype(np.float64, copy=False) if not sp.issparse(X) else X\n",
        "after sparsify(): the float64 cast applied to dense X, not sparse X (float32 CSR refused by the product)",
        "dtype",
    ),
    Bug(
        "_data",
        "        elif stored and (indices.min() < 0 or indices.max() >= bound):\n",
        "        elif stored and (indices.min() < 0 or indices.max() > bound):\n",
        "check_sparse_indices (CSR/CSC): off by one, an index equal to the column (row) count is let through",
    ),
    Bug(
        "_data",
        "        elif np.any(np.diff(X.indptr) < 0):\n",
        "        elif np.any(X.indptr < 0):\n",
        "check_sparse_indices: index pointers checked for negative values, not for decreasing ones",
    ),
    Bug(
        "_data",
        '        for name, indices, bound in (("row", X.row, X.shape[0]), ("column", X.col, X.shape[1])):\n',
        '        for name, indices, bound in (("row", X.row, X.shape[0]), ("column", X.col, X.shape[0])):\n',
        "check_sparse_indices (COO): column indices bounded by the row count (a column past n_features of a tall "
        "matrix let through)",
    ),
    Bug(
        "_batched",
        "STATE_VECTORS = 2 * HISTORY + 14\n",
        "STATE_VECTORS = HISTORY + 14\n",
        "CV batches count HISTORY curvature vectors per problem, not HISTORY (s, y) pairs: batches about 1.4x "
        "too large on wide data",
    ),
    Bug(
        "_solvers",
        "_FIRST_STEP_OVERSHOOT = 1e6\n",
        "_FIRST_STEP_OVERSHOOT = 1e4\n",
        "first L-BFGS step cut back from 1e4 times its overshoot: raw features of 1e5 leave L-BFGS-B's path",
    ),
    Bug(
        "_net",
        '    if torch.empty(0).device.type == "cpu":\n',
        '    if torch.empty(0).device.type != "cpu":\n',
        "training default device: condition inverted (a user's other default device is kept while training; "
        "the CPU default pays the device mode)",
    ),
    # ------------------------------------------------------------------ session 43: thin modules (217-)
    Bug(
        "_newton",
        "        return {(0, 0): weight * p * (1 - p)}\n",
        "        return {(0, 0): p * (1 - p)}\n",
        "binary Newton Hessian drops the sample weights (the step is wrong for weighted data; more iterations)",
        "weights",
    ),
    Bug(
        "_newton",
        "            bias -= bias.mean()\n",
        "            bias -= bias[-1]\n",
        "multinomial Newton re-centring pins the last intercept at 0 instead of centring the intercepts (sum 0)",
    ),
    Bug(
        "_newton",
        "                G[:d, d] += column\n",
        "",
        "dense Newton Hessian: the intercept's column left out above the diagonal (Cholesky reads the lower "
        "triangle; the Newton decrement and rcond see an asymmetric matrix)",
    ),
    Bug(
        "_newton",
        "        if rcond < torch.finfo(torch.float64).eps:\n",
        "        if rcond < torch.finfo(torch.float64).tiny:\n",
        "ill-conditioned Newton Hessian (rcond < eps) solved anyway, without scikit-learn's LinAlgWarning and "
        "fall-back to lbfgs",
        "check",
    ),
    Bug(
        "_newton",
        '        if row["grad_max"] <= self.tol and state["newton_decrement"] <= self.tol:\n',
        '        if row["grad_max"] <= self.tol:\n',
        "Newton stopping rule checks only max |g| <= tol, not the Newton decrement (stops earlier than scikit-learn)",
        "check",
    ),
    Bug(
        "_newton",
        "    size = n_outputs * (n_features + int(fit_intercept))\n",
        "    size = n_outputs * n_features\n",
        "Hessian size check leaves out the intercept column (a Hessian just over 2 GiB is built, not refused)",
        "off-by-one",
    ),
    Bug(
        "_export",
        "        outside = classes.size and (float(classes.min()) < -(2.0**63) or float(classes.max()) >= 2.0**63)\n",
        "        outside = classes.size and (float(classes.min()) < -(2.0**63) or float(classes.max()) > 2.0**63)\n",
        "ONNX export of integral float labels: 2.0**63 let through (wraps to -2**63 in int64)",
        "off-by-one",
        tests=["tests/test_onnx.py"],
    ),
    Bug(
        "_export",
        "            return self.classes[(H[:, 0] > 0).to(torch.int64)], torch.cat([1 - positive, positive], dim=1)\n",
        "            return self.classes[(H[:, 0] >= 0).to(torch.int64)], torch.cat([1 - positive, positive], dim=1)\n",
        "to_onnx binary graph: a zero logit labelled with the positive class (predict: the negative)",
        "tie",
        tests=["tests/test_onnx.py"],
    ),
    Bug(
        "onnx",
        "            classes = np.arange(len(classes), dtype=np.int64)\n",
        "            classes = np.arange(1, len(classes) + 1, dtype=np.int64)\n",
        "skl2onnx nocl option: class indices counted from 1, not 0",
        "off-by-one",
        tests=["tests/test_onnx.py"],
    ),
    Bug(
        "_net",
        "        for start in range(0, n, self.batch_size):\n",
        "        for start in range(0, n - 1, self.batch_size):\n",
        "mini-batches: a last batch of exactly one row is never served (that row never trains)",
        "off-by-one",
    ),
    Bug(
        "_net",
        "            sizes.append(batch[0].shape[0])\n",
        "            sizes.append(self.batch_size)\n",
        "device-side epoch records batch_size for every batch in history (the short last batch too; skorch: its rows)",
    ),
    Bug(
        "_net",
        "                rows = host_rows[start : start + self.batch_size]\n",
        "                rows = np.sort(host_rows[start : start + self.batch_size])\n",
        "sparse mini-batches: the host CSR rows sorted (for slicing) while the targets keep the permutation's "
        "order: rows paired with other rows' labels",
        tests=["tests/test_sparse.py"],
    ),
    Bug(
        "_training_set",
        "            np.arange(len(given)), test_size=validation_fraction, random_state=seed, stratify=stratify\n",
        "            np.arange(len(given)), test_size=validation_fraction, random_state=seed, stratify=None\n",
        "early stopping's hold-out not stratified by class (MLPClassifier stratifies)",
        tests=["tests/test_contracts_training.py", "tests/test_multilabel.py", "tests/test_tensors.py"],
    ),
    Bug(
        "_training_set",
        "            X, y, sample_weight = fit_inputs(estimator, X, y, sample_weight, reset=reset)\n",
        "            X, y, sample_weight = fit_inputs(estimator, X, y, sample_weight, reset=True)\n",
        "host path (sparse, DataFrames, lists) of a later partial_fit resets n_features_in_ instead of checking it",
        "check",
        tests=["tests/test_partial_fit.py", "tests/test_contracts_incremental.py"],
    ),
    Bug(
        "_tensor_data",
        "        valid &= (weight >= 0).all() & torch.isfinite(weight).all() & (weight != 0).any()\n",
        "        valid &= (weight >= 0).all() & torch.isfinite(weight).all()\n",
        "tensor path: all-zero sample_weight not sent to the host path (no scikit-learn ValueError)",
        "check",
    ),
    Bug(
        "_tensor_data",
        "    return X, y, weight, float(torch.maximum(-low, high))\n",
        "    return X, y, weight, float(high)\n",
        "tensor path's max_abs is X's maximum, not its largest |value| (all-negative X: negative tie bound)",
    ),
    Bug(
        "_tensor_data",
        "    if y.ndim == 2 and y.shape[1] < 2:  # a column: the host path warns and ravels it, as scikit-learn does\n",
        "    if y.ndim == 2 and y.shape[1] < 1:  # a column: the host path warns and ravels it, as scikit-learn does\n",
        "tensor path takes a one-column y (no DataConversionWarning as scikit-learn gives)",
        "off-by-one",
    ),
    Bug(
        "_predict",
        "        return torch.nn.functional.logsigmoid(logits)\n",
        "        return torch.log(torch.sigmoid(logits))\n",
        "multi-label predict_log_proba of a tensor: log(sigmoid) underflows to -inf for logits below -104 (float64)",
    ),
    Bug(
        "_predict",
        "    return (logits > cut).to(torch.from_numpy(np.zeros(0, dtype=dtype)).dtype)\n",
        "    return (logits >= cut).to(torch.from_numpy(np.zeros(0, dtype=dtype)).dtype)\n",
        "multi-label predict of a tensor: a probability equal to the threshold predicts 1 (NumPy path: 0)",
        "tie",
    ),
    Bug(
        "_predict",
        '    dtype = torch.float32 if X.device.type == "mps" else torch.float64\n',
        '    dtype = torch.float32 if X.device.type == "mps" else X.dtype\n',
        "predictions from a float32 tensor computed in float32 (the docs: float64 whatever the input)",
        "float32",
    ),
    Bug(
        "_compare",
        "            reached_max_iter=iterations >= max_iter,\n",
        "            reached_max_iter=iterations > max_iter,\n",
        "compare never says a model reached max_iter (n_iter_ is capped at max_iter)",
        "off-by-one",
        tests=["tests/test_compare.py"],
    ),
    Bug(
        "_compare",
        "    at_optimum = [name for name in rows if gap[name] <= 1e-6 * scale]\n",
        "    at_optimum = [name for name in rows if gap[name] <= 1e-6]\n",
        "compare's 'at the optimum' test absolute, not relative to the objective's scale",
        tests=["tests/test_compare.py"],
    ),
    Bug(
        "_state",
        '        raise ValueError(\n            "warm_start=True cannot continue',
        '        raise TypeError(\n            "warm_start=True cannot continue',
        "load_warm_start refuses parameters of another structure with a TypeError, not its ValueError (fit and "
        "partial_fit check classes and features first: the helper's own contract)",
        tests=["tests/test_fitted_state.py", "tests/test_partial_fit.py"],
    ),
    Bug(
        "_state",
        "        {k: v.detach().cpu().numpy().copy() if isinstance(v, torch.Tensor) else v "
        "for k, v in state.items()}\n",
        "        {k: v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v for k, v in state.items()}\n",
        "saved optimizer moments share memory with the live optimizer: a later (failed) partial_fit changes them",
        tests=["tests/test_fitted_state.py", "tests/test_partial_fit.py"],
    ),
    Bug(
        "_summary_table",
        '    return f"{100 * (1 - float(alpha)):g}%"\n',
        '    return f"{100 * (1 - float(alpha) / 2):g}%"\n',
        "summary header's confidence level 97.5% for alpha=0.05 (the interval's upper quantile, not its level)",
        tests=["tests/test_summary_statistics.py", "tests/test_inference.py"],
    ),
    Bug(
        "_summary_table",
        '    return format_p_value(p) if not np.isfinite(p) or p == 0 else f"{p:#.4g}"\n',
        '    return format_p_value(p) if not np.isfinite(p) or p == 0 else f"{p:.4g}"\n',
        "summary's LLR p-value drops trailing zeros (0.0015, statsmodels: 0.001500)",
        tests=["tests/test_summary_statistics.py", "tests/test_inference.py"],
    ),
    # ------------------------------------------------------------------ today's changes (session 43, second set)
    Bug(
        "_training",
        "    limit = 2 * (1 + momentum)\n",
        "    limit = 2 * momentum\n",
        "sgd step-size limit 2 m instead of 2 (1 + m): stable (C, rate) pairs refused (momentum=0: every one)",
        "off-by-one",
    ),
    Bug(
        "_training",
        '    if solver == "sgd" and not shrink < limit:\n',
        '    if solver == "sgd" and not shrink <= limit:\n',
        "sgd step-size check lets shrink == 2 (1 + m) through (the boundary itself oscillates without decay)",
        "off-by-one",
    ),
    Bug(
        "_training",
        "    shrink = learning_rate * l2_strength(C, l1_ratio, weight_sum)\n",
        "    shrink = learning_rate / (C * weight_sum)\n",
        "sgd step-size check drops (1 - l1_ratio): elastic-net fits with a stable L2 step refused",
        "penalty",
    ),
    Bug(
        "_training",
        '    first_step = learning_rate / (1 - 0.9) if solver == "adam" else learning_rate  #',
        '    first_step = learning_rate / (1 - 0.9) if solver == "sgd" else learning_rate  #',
        "first-step overflow check: Adam's 10x factor applied to sgd instead (Adam's overflowing rate reaches torch)",
        "other",
    ),
    Bug(
        "_training",
        '                getattr(self, "momentum", 0.0),\n',
        '                getattr(self, "momentum_", 0.0),\n',
        "_check_scales reads momentum_ (no such attribute): the sgd limit is 2, momentum ignored",
        "other",
    ),
    Bug(
        "_incremental",
        "            self._check_scales(train, dtype)\n",
        "",
        "partial_fit checks neither the weight scale nor the step sizes (a diverging sgd partial_fit goes silent)",
        "check",
    ),
    Bug(
        "_callbacks",
        "            if strength > _HUGE_L2_STRENGTH:",
        "            if strength < _HUGE_L2_STRENGTH:",
        "overflow message inverted: blames C for ordinary feature overflow, and the features for a tiny C",
        "branch",
    ),
    Bug(
        "_callbacks",
        "                self.applied_[i] = torch.tensor(applied, dtype=torch.float64, device=W.device)\n",
        "                self.applied_[i] = torch.tensor(total, dtype=torch.float64, device=W.device)\n",
        "L1Proximal restart: applied totals copied from the cumulative totals (copy-paste)",
        "other",
    ),
    Bug(
        "_persistence",
        "    weights = [tuple(W.shape[::-1]) for W, _ in layers]\n",
        "    weights = [tuple(W.shape) for W, _ in layers]\n",
        "partial state check: weight shapes not transposed to torch's (n_out, n_in) (valid pickles refused)",
        "transpose",
    ),
    Bug(
        "_persistence",
        "                and all(isinstance(a, np.ndarray) and a.shape == shape for a in pair),\n",
        "                and all(isinstance(a, np.ndarray) and a.shape == shape for a in pair[:1]),\n",
        "L1 totals check looks at the cumulative total only, not the applied one",
        "check",
    ),
    Bug(
        "_persistence",
        '                _require(all(a.shape == shape for a in arrays), "the optimizer moments do not fit the '
        'coefficients")\n',
        '                _require(all(a.shape == shape for a in arrays[:1]), "the optimizer moments do not fit the '
        'coefficients")\n',
        "optimizer moments check: only the first moment (exp_avg) is checked, not exp_avg_sq",
        "check",
    ),
    Bug(
        "_persistence",
        "    layers = model._fitted_layers(dense=True)  # the shapes against n_features_in_ and the outputs\n"
        '    _require(_finite_numbers(layers), "its coefficients are not finite numbers")  # as a model file\'s'
        " tensors\n"
        '    partial = state.get("_partial_state")\n'
        "    if partial is not None:\n",
        '    partial = state.get("_partial_state")\n'
        "    if partial is not None:\n"
        "        layers = model._fitted_layers(dense=True)\n",
        "check_unpickled checks the arrays' shapes (and values) only for models with a partial_fit state",
        "check",
    ),
    Bug(
        "_base",
        "        copied.__dict__.update(copy.deepcopy(self.__dict__, memo))\n",
        "        copied.__dict__.update(self.__dict__)\n",
        "copy.deepcopy of a model shares its coef_ / history_ with the original (a shallow copy)",
        "other",
    ),
    Bug(
        "_base",
        "        if is_dask_collection(X):\n            return self._fit_dask(X, y, sample_weight)\n",
        "        if is_dask_array(X):\n            return self._fit_dask(X, y, sample_weight)\n",
        "a dask DataFrame X goes to the in-memory path (no TypeError naming to_dask_array)",
        "check",
    ),
    Bug(
        "_dask",
        "    with worker_client() as client:\n        yield client\n",
        "    from distributed import get_client\n\n    yield get_client()\n",
        "a dask fit inside a dask task uses get_client() without seceding (a one-thread worker deadlocks)",
        "other",
    ),
    Bug(
        "_targets",
        "    return label_targets(classes, encoded, stratify=encoded if len(classes) == 2 else None)\n",
        "    return label_targets(classes, encoded, stratify=encoded if len(classes) >= 2 else None)\n",
        "early stopping's split stratified for multiclass y too (a class of one sample fails the fit)",
        "off-by-one",
    ),
    Bug(
        "_summary_table",
        '    return f"{v:.4g}" if abs(v) >= 1e4 or abs(v) < 1e-4 else f"{v:.4f}"\n',
        '    return f"{v:.4g}" if abs(v) > 1e4 or abs(v) < 1e-4 else f"{v:.4f}"\n',
        "summary table: 10000 printed 10000.0000 (statsmodels' forg: 1e+04)",
        "off-by-one",
        tests=["tests/test_summary_statistics.py", "tests/test_inference.py"],
    ),
    Bug(
        "_summary_table",
        '    return f"{v:.4g}" if abs(v) >= 1e4 or abs(v) < 1e-4 else f"{v:.4f}"\n',
        '    return f"{v:.4g}" if abs(v) >= 1e4 or 0 < abs(v) < 1e-4 else f"{v:.4f}"\n',
        "summary table: an exact zero printed 0.0000 (statsmodels' forg: 0)",
        "other",
        tests=["tests/test_summary_statistics.py", "tests/test_inference.py"],
    ),
    Bug(
        "_inference",
        "    augmented[0, 0] = float(n)\n",
        "    augmented[0, 0] = 1.0\n",
        "implicit_constant: the constant's own Gram entry 1 instead of n (no implicit constant found)",
        "other",
    ),
    Bug(
        "onnx",
        "                proba = OnnxConcat(OnnxNeg(H, op_version=opv), H, axis=1, op_version=opv)\n",
        "                proba = OnnxConcat(H, OnnxNeg(H, op_version=opv), axis=1, op_version=opv)\n",
        "skl2onnx raw_scores, binary: columns (score, -score) instead of (-score, score)",
        "other",
        tests=["tests/test_onnx.py"],
    ),
    Bug(
        "onnx",
        "        proba = H if raw_scores else OnnxSigmoid(H, op_version=opv)\n",
        "        proba = OnnxSigmoid(H, op_version=opv)\n",
        "skl2onnx raw_scores ignored for multi-label models (probabilities returned)",
        "other",
        tests=["tests/test_onnx.py"],
    ),
    Bug(
        "_multilabel",
        '        return super()._recorded_scores() | ({"valid_loss"} if self._validation_fraction() is not None '
        "else set())\n",
        '        return super()._recorded_scores() | ({"valid_loss"} if self.validation_fraction is not None '
        "else set())\n",
        "multi-label records valid_loss whenever validation_fraction is set (the parameter, not the fit's fraction)",
        "other",
    ),
    Bug(
        "_inference",
        '            if result.status == "singular" and result.factor.overflowed:\n'
        "                warn_overflowed(subject)\n"
        '            elif result.status == "singular":\n'
        "                warn_singular(result.factor.rcond, subject, hint)\n",
        '            if result.status == "singular":\n'
        "                warn_singular(result.factor.rcond, subject, hint)\n"
        '            elif result.status == "singular" and result.factor.overflowed:\n'
        "                warn_overflowed(subject)\n",
        "summary: the branches in the wrong order, an overflowed Hessian is warned about as singular again",
        "other",
    ),
    Bug(
        "_threads",
        '    return torch.backends.mkl.is_available() and "GenuineIntel" not in cpu_vendor()\n',
        '    return torch.backends.mkl.is_available() and "AuthenticAMD" not in cpu_vendor()\n',
        "the BLAS routing's vendor rule keyed on AMD: an unknown vendor stays in torch, an AMD CPU too",
        "other",
    ),
    Bug(
        "_threads",
        "    return bool(vector_products and n_values >= SMALL_VALUES and numpy_blas_is_faster())\n",
        "    return bool(vector_products and n_values >= SMALL_VALUES)\n",
        "the BLAS routing ignores the vendor rule (NumPy's BLAS on every CPU, as before 2026-12-06)",
        "other",
    ),
    Bug(
        "_kernels",
        "    return np.take(X, rows, axis=0) if X.flags.c_contiguous else X[rows]\n",
        "    return np.take(X, rows, axis=0)\n",
        "np.take for every layout: a column-major X (a DataFrame's) copied whole at every chunk of the training copy",
        "other",
    ),
    Bug(
        "_kernels",
        "    if values.dim() == 2 and not values.is_contiguous() and values.T.is_contiguous():\n"
        "        values = values.T\n",
        "    if values.dim() == 2 and not values.is_contiguous() and values.T.is_contiguous():\n"
        "        values = values.contiguous()\n",
        "value_range copies a column-major tensor instead of reading it through its transpose",
        "other",
        tests=["tests/test_tensors.py"],
    ),
    Bug(
        "_compare",
        '        refuse_mps_training(resolve_device(args.device, "TorchLogisticClassifier"))\n',
        "        str(args.device)\n",
        "compare: --device no longer checked with the other arguments (found by the warm-up fit, after output)",
        "other",
    ),
    Bug(
        "_newton",
        "            and _scaled_reciprocal_condition(*_without_shift(",
        "            and _reciprocal_condition(*_without_shift(",
        "float32 Newton sensitivity judged on the unscaled Hessian (column scales alone promote raw data to float64)",
        "other",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        "_newton",
        "        if float32_sensitive:  # the float32 step would be rounding along the near-null directions\n"
        "            return FLOAT64_STEPS\n",
        "",
        "float32 Newton steps taken on a Hessian too ill-conditioned for them (coefficients drift, called converged)",
        "other",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        "_training",
        '        if getattr(net.optimizer_, "stepless", False):\n            del net.history[-1]\n',
        "",
        "the stepless float32 Newton iteration counted in n_iter_ (one more than scikit-learn's)",
        "other",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        "_newton",
        "                stop = min(start + step, d)\n",
        "                stop = start + step\n",
        "sparse Gram's last block of rows runs into the intercept's column (shape error with an intercept)",
        "other",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        "_devices",
        '        stack.enter_context(torch.autocast("cpu", enabled=False))\n',
        "",
        "the caller's CPU autocast reaches the fit (bfloat16 products: torch's RuntimeError, hidden layers in bf16)",
        "other",
        tests=["tests/test_partial_fit.py"],
    ),
    Bug(
        "_devices",
        "    if X.is_nested:\n",
        "    if X.is_nested and X.device.type != 'cpu':\n",
        "nested (ragged) CPU tensors reach torch's internal errors",
        "other",
        tests=["tests/test_bad_input.py"],
    ),
    Bug(
        "_net",
        "                self._print_stopping_epoch(cb_kwargs)\n",
        "                pass\n",
        "verbose leaves out the row of the iteration whose stopping rule ended the fit",
        "other",
        tests=["tests/test_contracts_fit_setup.py"],
    ),
    Bug(
        "_kernels",
        "    step = max(1, min(chunk_values(X.device), values.shape[0]))\n",
        "    step = max(1, values.shape[0])\n",
        "column maxima of a sparse tensor over every stored value at once (L1 / C=inf CSR fits add 1.9x the matrix)",
        "other",
    ),
    Bug(
        "_batched",
        "                step = max(1, CHUNK_VALUES * max(n_rows, 1) // max(D.values().shape[0], 1))\n",
        "                step = max(n_rows, 1)\n",
        "the CV design's column moments over every stored value at once (~40 bytes a value)",
        "other",
        tests=["tests/test_sparse.py", "tests/test_cv.py"],
    ),
    Bug(
        "_cv",
        "                text = lbfgs_warning(_iteration_limit_message(), 1, self.max_iter, self.max_iter)\n",
        "                text = lbfgs_warning(_iteration_limit_message(), 1, self.max_iter, None)\n",
        "CV ConvergenceWarning loses scikit-learn's max_iter advice",
        "other",
        tests=["tests/test_cv.py"],
    ),
    Bug(
        "_cv",
        "        return array.size > 0 and all(isinstance(v, Real) for v in array.ravel())\n",
        "        return False\n",
        "object-dtype Cs / l1_ratios of numbers refused as not numbers",
        "other",
        tests=["tests/test_cv.py"],
    ),
    Bug(
        "_inference",
        '        settings = vars(self).get("_fit_settings")\n',
        "        settings = None\n",
        "summary() reads C, fit_intercept, class_weight as set now, not as fitted (describes another model)",
        "other",
        tests=["tests/test_inference.py"],
    ),
    Bug(
        "_base",
        "        return penalty_name(self.C, self.l1_ratio)\n",
        '        return "l2"\n',
        "penalty always 'l2': SelectFromModel takes the mean importance for L1 models (drops kept features)",
        "other",
        tests=["tests/test_l1.py"],
    ),
    Bug(
        "_incremental",
        "            net.history.extend(history[:-1] + [dict(history[-1])] if history else history)\n",
        "            net.history.extend(history)\n",
        "a failed partial_fit writes into the fitted history's last row (shared with the new net)",
        "other",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_base",
        "        if not (self.warm_start and self._has_model()):\n",
        "        if not self.warm_start:\n",
        "warm_start after del coef_: raw AttributeError instead of a cold fit",
        "other",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_multilabel",
        "            self._coefs = [np.asarray(W) for W in value]\n",
        "            self._coefs = list(value)\n",
        "hidden-layer coefs_ assigned as lists kept as lists (predict and pickling fail)",
        "other",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_base",
        "        check_device_name(self.device, owner=type(self).__name__)\n        try:\n",
        "        try:\n",
        "a device name set after fit that names no device predicts on the CPU without a word",
        "other",
        tests=["tests/test_logistic_api.py"],
    ),
    Bug(
        "_data",
        "    values = host_array(X)[np.asarray(picked.cpu() if isinstance(picked, torch.Tensor) else picked)]\n",
        "    values = host_array(X)\n",
        "the underflow check reads every row of X, not the training rows (zero training rows refused as underflow)",
        "other",
        tests=["tests/test_extreme_values.py"],
    ),
    Bug(
        "_compare",
        "    warm_up = np.union1d(first, np.arange(min(50, len(y_train))))\n",
        "    warm_up = np.arange(min(50, len(y_train)))\n",
        "compare's warm-up fit on the first 50 training rows (one class on imbalanced data: a false error)",
        "other",
        tests=["tests/test_compare.py"],
    ),
    Bug(
        "_compare",
        "                if on_one < fit_time:\n",
        "                if False:\n",
        "compare times our larger fits on torch's pool only (scikit-learn gets the faster of two thread settings)",
        "other",
        tests=["tests/test_compare.py"],
    ),
    # stop 46: each reviewed finding's fix
    Bug(
        "_base",
        '        if not hasattr(self, "classes_"):\n'
        '            if "_n_outputs" not in vars(self):\n'
        "                return None\n",
        '        if not hasattr(self, "classes_"):\n            return None\n',
        "warm_start from coef_ assigned without classes_ starts from zero (LogisticRegression goes on from it)",
        "other",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_multilabel",
        '_WrittenBack.__name__ = "list"\n',
        "\n",
        "the linear multi-label coefs_ shows as the private _WrittenBack type in the HTML repr",
        "other",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_persistence",
        '            "fit_settings": _encode(getattr(model, "_fit_settings", None), "fit_settings"),\n',
        '            "fit_settings": None,\n',
        "save drops the fit's settings: a loaded model's summary() computes with set_params' later C",
        "other",
        tests=["tests/test_inference.py"],
    ),
    Bug(
        "_persistence",
        '    if "_fit_settings" in state:\n        try:\n',
        "    if False:\n        try:\n",
        "an unpickled state's fit settings are not checked (a crafted C='abc' reaches NumPy's TypeError in summary)",
        "other",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_persistence",
        "    if not model._has_model():  # its coefficients deleted",
        "    if False:  # its coefficients deleted",
        "a pickled model whose coef_ was deleted cannot be unpickled (AttributeError)",
        "other",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_persistence",
        "    if requests:  # (a file without them is as before)\n",
        "    if False:  # (a file without them is as before)\n",
        "save drops the metadata-routing requests (a loaded model in cross_validate(params=...) raises)",
        "other",
        tests=["tests/test_model_files.py"],
    ),
    Bug(
        "_persistence",
        "format version {repr(header.get('format_version'))[:40]}",
        "format version {str(header.get('format_version'))[:40]}",
        "a string format version '1' is shown as 1 beside 'this torchlogit reads version 1'",
        "other",
        tests=["tests/test_model_files.py"],
    ),
    Bug(
        "_base",
        "    if isinstance(X, torch.Tensor) and X.is_nested:",
        "    if False:",
        "fit on a nested tensor of 1-D rows: torch's internal error from the thread rule's size reading",
        "bad input",
        tests=["tests/test_bad_input.py"],
    ),
    Bug(
        "_training",
        "init_state is not None or not (net.optimizer_.preconditioned or net.optimizer_.has_l1)",
        "init_state is not None or not net.optimizer_.preconditioned",
        "a cold L1 fit optimal at zero reports n_iter_ == [0] (saga: 1; scikit-learn's n_iter check fails)",
        "other",
        tests=["tests/test_l1.py"],
    ),
    Bug(
        "_batched",
        "        n_iter[converged & has_l1 & (budget > 0)] = 1\n",
        "        pass\n",
        "the CV path's cold L1 problems optimal at zero report 0 iterations (check_non_transformer_estimators_n_iter)",
        "other",
        tests=["tests/test_l1.py"],
    ),
    Bug(
        "_callbacks",
        "        if not last > 2 * self.best_ + self.tol:\n",
        "        if True:\n",
        "a mini-batch run stopped far above its best epoch (overshooting steps) is called converged in silence",
        "convergence",
        tests=["tests/test_convergence.py"],
    ),
    Bug(
        "_training",
        "    _refuse_subnormal_columns(scale, X.dtype)\n",
        "",
        "a column subnormal in float32 fails blaming large values instead of naming the column and the range",
        "bad input",
        tests=["tests/test_extreme_values.py"],
    ),
    Bug(
        "_multilabel",
        "                delattr(self, attribute)\n",
        "                pass\n",
        "del coefs_ on a hidden-layer multi-label model leaves the layers (its warm start does not start cold)",
        "other",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_newton",
        "        anorm = max(anorm, float(block.sum(dim=0).max()))\n",
        "        anorm = float(block.sum(dim=0).max())\n",
        "newton's rcond reads the Hessian's norm in the last block of columns only (a large column before it: "
        "rounding steps without scikit-learn's LinAlgWarning)",
        "other",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        "_newton",
        "_FLOAT32_SENSITIVE_RCOND = 2e-5\n",
        "_FLOAT32_SENSITIVE_RCOND = 1e-6\n",
        "float32 newton-cholesky takes float64 steps only below rcond 1e-6 (20k x 20 at C=10: coefficients 0.45% off)",
        "other",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        "_cv",
        '        ratios = getattr(self, "l1_ratio_", None)\n',
        "        ratios = None\n",
        "a fitted CV model's penalty reads the l1_ratios grid, not the chosen l1_ratio_ (SelectFromModel's mean "
        "threshold for an L1 choice)",
        "penalty",
        tests=["tests/test_l1.py"],
    ),
    Bug(
        "_base",
        "    if not (isinstance(C, Real) and isinstance(l1_ratio, Real)):",
        "    if not isinstance(C, Real):",
        "penalty of an l1_ratio that is not a number (None, \"0.5\") is 'elasticnet' instead of None",
        "check",
        tests=["tests/test_l1.py"],
    ),
    Bug(
        "_base",
        "{name: copy.copy(params[name]) for name in _OBJECTIVE_SETTINGS",
        "{name: params[name] for name in _OBJECTIVE_SETTINGS",
        "the fit's recorded class_weight is the caller's dict: editing it after fit changes summary()",
        "other",
        tests=["tests/test_inference.py"],
    ),
    Bug(
        "_base",
        '_OBJECTIVE_SETTINGS = ("C", "l1_ratio", "fit_intercept", "class_weight", "pos_weight")',
        '_OBJECTIVE_SETTINGS = ("C", "l1_ratio", "fit_intercept", "class_weight")',
        "pos_weight not among the fit's recorded settings: set_params(pos_weight=None) after fit changes the "
        "multi-label summary()",
        "weights",
        tests=["tests/test_inference.py"],
    ),
    Bug(
        "_batched",
        "                step = max(1, CHUNK_VALUES * max(n_rows, 1) // max(D.values().shape[0], 1))\n",
        "                step = max(1, CHUNK_VALUES // max(D.values().shape[0], 1))\n",
        "a CSR design's CV column moments summed one row at a time (a Python call per row)",
        "other",
        tests=["tests/test_batched_whitening.py"],
    ),
    Bug(
        "_state",
        "        vars(estimator).clear()\n",
        "",
        "a failed first fit leaves n_features_in_ behind (predict: AttributeError instead of NotFittedError)",
        "other",
        tests=["tests/test_failed_fits.py"],
    ),
    Bug(
        "_devices",
        "^(cpu(:0)?|mps(:0)?",
        "^(cpu(:[0-9])?|mps(:0)?",
        "device='cpu:1' accepted (fitted on the CPU) instead of refused in the parameter's words",
        "check",
        tests=["tests/test_contracts_fit_setup.py"],
    ),
    Bug(
        "_summary_table",
        '    return f"{value:.0f}" if value.is_integer() else f"{value:.6g}"',
        '    return f"{value:.0f}"',
        "summary's header rounds a weighted observation count (31.5 printed as 32)",
        "weights",
        tests=["tests/test_summary_statistics.py"],
    ),
    Bug(
        "_compare",
        '        mini_batch = OURS in stopped and ours["solver"] != ref["solver"]\n',
        '        mini_batch = ours["solver"] != ref["solver"]\n',
        "compare blames our mini-batch solver where only scikit-learn reached max_iter",
        "other",
        tests=["tests/test_compare.py"],
    ),
    Bug(
        "_kernels",
        "        source = torch.abs(values[start:stop], out=value_buffer[: stop - start])\n",
        "        source = torch.abs(values[: stop - start], out=value_buffer[: stop - start])\n",
        "column_max_abs reads every chunk of stored values from the start (the first chunk's maxima for all)",
        "off-by-one",
        tests=["tests/test_contracts_kernels.py"],
    ),
    Bug(
        "_training",
        "    if X.shape[1] >= _WIDE_RATIO * X.shape[0]:\n",
        "    if False:\n",
        "wide data of far-apart column scales preconditioned: max_iter and a warning where L-BFGS-B converges",
        "convergence",
        tests=["tests/test_preconditioner.py"],
    ),
    Bug(
        "_compat",
        "    if isinstance(sample_weight, numbers.Number):",
        "    if isinstance(sample_weight, np.ndarray):",
        "a scalar sample_weight of NaN reaches NumPy's zero-size reduction error (an array's values are checked twice)",
        "bad input",
        tests=["tests/test_bad_input.py"],
    ),
    Bug(
        "_modules",
        "    if not streams or len(streams) != len(layers):\n",
        "    if not streams or len(streams) == len(layers):\n",
        "partial_fit's dropout layers restart from their seed every call (one fixed mask for a stream of blocks)",
        "state",
        tests=["tests/test_partial_fit.py"],
    ),
    Bug(
        "_incremental",
        '        if name == "train_loss" and hasattr(callback, "best_score_"):\n',
        '        if name == "valid_loss" and hasattr(callback, "best_score_"):\n',
        "partial_fit flags every call's epoch train_loss_best, a worse one included (Checkpoint keeps the last model)",
        "state",
        tests=["tests/test_partial_fit.py"],
    ),
    Bug(
        "_base",
        "        if issubclass(kind, EarlyStopping) and partial:\n",
        '        if issubclass(kind, EarlyStopping) and partial and solver == "sgd":\n',
        "skorch's EarlyStopping accepted in an adam partial_fit, where it never stops anything",
        "bad input",
        tests=["tests/test_partial_fit.py"],
    ),
    Bug(
        "_objective",
        "        linear.weight.grad = grad_W if linear.weight.requires_grad else None\n",
        "        linear.weight.grad = grad_W\n",
        "skorch's Freezer('linear.weight') accepted and ignored: the closed-form gradient moves frozen weights",
        "other",
        tests=["tests/test_minibatch_loop.py"],
    ),
    Bug(
        "_persistence",
        "        and stream[1].dtype == np.uint8\n",
        "",
        "a crafted pickle's dropout stream of float values loads (torch's set_state then fails or reads garbage)",
        "bad input",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_dask",
        "            for i, part in zip(indices, parts, strict=True):\n",
        "            for i, part in zip(sorted(indices, reverse=True), parts, strict=True):\n",
        "a worker's block results put back out of order: the gradient's sum depends on which worker holds which block",
        "determinism",
        tests=["tests/test_contracts_dask.py"],
    ),
    Bug(
        "_dask",
        "        return array.to_delayed(optimize_graph=False).ravel()\n",
        "        return array.to_delayed().ravel()\n",
        "X, y and sample_weight from one dask table read it once per array when the blocks are loaded",
        "performance",
        tests=["tests/test_contracts_dask.py"],
    ),
    Bug(
        "_dask",
        '                check_non_negative(weight, "`sample_weight`")\n',
        "",
        "negative sample weights accepted on dask workers (the fit minimises a non-convex objective)",
        "bad input",
        tests=["tests/test_contracts_dask.py"],
    ),
    Bug(
        "_compare",
        "    return proba, _best_time(lambda: model.predict_proba(X), [seconds])\n",
        "    return proba, seconds\n",
        "compare's predict row times one call: a busy machine's 17 ms for a 0.4 ms predict",
        "other",
        tests=["tests/test_compare.py"],
    ),
    Bug(
        "_compare",
        'refuse_mps_training(resolve_device(args.device, "TorchLogisticClassifier"))',
        'resolve_device(args.device, "TorchLogisticClassifier")',
        "compare --device mps fails only after 'fitting both models' is printed",
        "bad input",
        tests=["tests/test_compare.py"],
    ),
    Bug(
        "_devices",
        "(torch.cuda.current_device() if count else 0)",
        "0",
        "device='cuda' trains on cuda:0 after torch.cuda.set_device(1), where 'auto' takes cuda:1",
        "device",
        tests=["tests/test_contracts_fit_setup.py"],
    ),
    Bug(
        "_kernels",
        "    order = torch.argsort(columns, stable=True)\n",
        "    order = torch.arange(len(columns), device=columns.device)\n",
        "the GPU path's per-column sums read the values unsorted: each column's sum takes other columns' values",
        "device",
        tests=["tests/test_contracts_kernels.py"],
    ),
    Bug(
        "_inference",
        "        check_consistent_length(X, y, *given)\n",
        "",
        "summary's length mismatch lists the default weights' length beside the ones the user passed",
        "bad input",
        tests=["tests/test_inference.py"],
    ),
    Bug(
        "_dask",
        "            if targets.row_factor is None:",
        "            if False:",
        "dask's all-zero sample weights blamed on class weights (in memory: scikit-learn's message)",
        "bad input",
        tests=["tests/test_dask.py"],
    ),
    Bug(
        "_targets",
        "    if largest > top:  # float64 holds every finite pos_weight",
        "    if False:  # float64 holds every finite pos_weight",
        "a pos_weight beyond float32 becomes infinite: the fit fails blaming large feature values",
        "bad input",
        tests=["tests/test_multilabel.py"],
    ),
    Bug(
        "_callbacks",
        "    return largest if largest * torch.finfo(pos_weight.dtype).eps > 1 else None\n",
        "    return None\n",
        "an L-BFGS or Adam overflow caused by a huge pos_weight is blamed on the features",
        "bad input",
        tests=["tests/test_multilabel.py"],
    ),
    Bug(
        "_callbacks",
        '            other_dtype = "" if exact else ", or fit with dtype=\'float64\'"',
        "            other_dtype = \", or fit with dtype='float64'\"",
        "a float64 fit whose objective overflows is told to fit with dtype='float64'",
        "bad input",
        tests=["tests/test_multilabel.py"],
    ),
    Bug(
        "_persistence",
        '    if "estimator" in header and header["estimator"] != cls.__name__:',
        '    if "arrays" in header and "estimator" in header and header["estimator"] != cls.__name__:',
        "a TorchLogisticClassifier file loaded as TorchLogisticClassifierCV lists the header's keys, not the class",
        "persistence",
        tests=["tests/test_persistence.py"],
    ),
    Bug(
        "_modules",
        "        narrow = np.asarray(W).dtype == np.float32 and (b is None or np.asarray(b).dtype == np.float32)",
        "        narrow = np.asarray(W).dtype == np.float32",
        "a float32 coef_ assigned beside a float64 intercept_ is saved as float32 both: loaded predictions move",
        "persistence",
        tests=["tests/test_persistence.py"],
    ),
    Bug(
        "_newton",
        "            blocks[:, :d] -= blocks[:, :d].mean(dim=0) + W.detach().double().mean(dim=0)\n",
        "",
        "penalised multinomial Newton: the step along the classes' common shift is float32 rounding over 1 / (C S)",
        "solver",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        "_newton",
        "_scaled_reciprocal_condition(*_without_shift(L, H_free, K, p, d, criterion.kind, l2))",
        "_scaled_reciprocal_condition(L, H_free)",
        "the classes' common shift (stepped exactly) still sends float32 multinomial Newton fits to float64 steps",
        "solver",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        "_threads",
        '    _running = getattr(_local, "depth", 0)  # the forking thread\'s own blocks (nested ones each count), '
        "if any\n"
        "    _default = 1  # what this process runs on now\n",
        "",
        "a child forked while another thread fits inherits its count and starting threads: its first small fit "
        "sets two threads and its next parallel region hangs",
        "other",
        tests=["tests/test_threads.py"],
    ),
    Bug(
        "_base",
        "    _doc_link_template = DOC_LINK_TEMPLATE\n",
        "",
        "the HTML repr links torchlogit's estimators to scikit-learn's documentation",
        "docs",
        tests=["tests/test_logistic_api.py"],
    ),
    Bug(
        "_summary_table",
        '("Df Model:", "df_model"',
        '("Df Model:", "df_resid"',
        "the printed summary shows the residual degrees of freedom under 'Df Model:'",
        "other",
        tests=["tests/test_summary_statistics.py"],
    ),
    Bug(
        "_export",
        "int(classes.max()) < 2**63",
        "int(classes.max()) <= 2**63",
        "the uint64 label 2**63 is exported and wraps to -2**63 in the ONNX graph",
        "other",
        tests=["tests/test_onnx.py"],
    ),
    Bug(
        "onnx",
        "        label_type = Int64TensorType\n",
        "        pass\n",
        "skl2onnx nocl=True with string labels declares the label output as strings while it holds int64 indices",
        "other",
        tests=["tests/test_onnx.py"],
    ),
    Bug(
        "_persistence",
        'return array.reshape(spec["shape"]).astype(dtype.newbyteorder("="))',
        'return array.reshape(spec["shape"])',
        "a loaded model's arrays are read-only views of the file's bytes (in-place edits refused, payload kept alive)",
        "persistence",
        tests=["tests/test_persistence.py"],
    ),
    Bug(
        "_targets",
        "position = np.searchsorted(classes, y).clip(0, len(classes) - 1)",
        "position = np.searchsorted(classes, y)",
        "partial_fit with a string label above every class: NumPy's IndexError, not scikit-learn's ValueError",
        "bad input",
        tests=["tests/test_partial_fit.py"],
    ),
    Bug(
        "_state",
        "torch.from_numpy(np.array(v)) if",
        "torch.from_numpy(v) if",
        "partial_fit's optimizer shares the saved moments: a failed call changes every later one",
        "state",
        tests=["tests/test_contracts_incremental.py"],
    ),
    Bug(
        "_tensor_data",
        "if tuple(weight.shape) != (n_samples,):",
        "if weight.shape[0] != n_samples:",
        "a 2-D sample_weight reaches torch's broadcast RuntimeError instead of scikit-learn's ValueError",
        "bad input",
        tests=["tests/test_tensors.py"],
    ),
    Bug(
        "_tensor_data",
        "return max(1, values // X.shape[1])",
        "return values // X.shape[1]",
        "float32 X wider than one preparation chunk (2^18 columns) fails with range()'s zero step",
        "other",
        tests=["tests/test_tensors.py"],
    ),
    Bug(
        "_incremental",
        'l1_start=partial.get("l1") if partial is not None and partial["solver"] == self._solver() else None',
        'l1_start=partial.get("l1") if partial is not None else None',
        "partial_fit after a change of solver carries the other solver's L1 totals over",
        "state",
        tests=["tests/test_contracts_incremental.py"],
    ),
    Bug(
        "_data",
        'result.dtype.kind not in "biuf"',
        'result.dtype.kind not in "iuf"',
        "boolean labels predicted from a tensor come back as NumPy, not a bool tensor",
        "other",
        tests=["tests/test_tensors.py"],
    ),
    Bug(
        "_objective",
        "            scores += bias.detach().unsqueeze(1) if outputs_first else bias.detach()",
        "            pass",
        "the all-zero-coefficients shortcut of the objective drops the intercept (strong L1 on large data)",
        "penalty",
        tests=["tests/test_contracts_objective.py"],
    ),
    Bug(
        "_objective",
        "        shift = scores.amax(dim=axis, keepdim=True)",
        "        shift = scores.amin(dim=axis, keepdim=True)",
        "the multinomial softmax shifted by the smallest logit: exp overflows for logits ~710 apart",
        "other",
        tests=["tests/test_contracts_objective.py"],
    ),
    Bug(
        "_callbacks",
        "    return largest if largest * torch.finfo(pos_weight.dtype).eps > 1 else None",
        "    return largest if largest > 1 else None",
        "an ordinary pos_weight (3) is blamed for an overflow the features caused",
        "bad input",
        tests=["tests/test_multilabel.py"],
    ),
    Bug(
        "_predict",
        "            return torch.stack((1.0 - positive, positive), dim=1)",
        "            return torch.stack((torch.sigmoid(-logits[:, 0]), positive), dim=1)",
        "tensor binary probabilities of classes_[0] as sigmoid(-z), not scikit-learn's 1 - expit(z)",
        "other",
        tests=["tests/test_contracts_predict.py"],
    ),
    Bug(
        "_net",
        "            if isinstance(self.optimizer_, LBFGS):  # skorch",
        "            if False:  # skorch",
        "L-BFGS on hidden layers never zeroes the gradients: each evaluation adds onto the last (the fit stalls)",
        "solver",
        tests=["tests/test_multilabel.py"],
    ),
    Bug(
        "_net",
        "manual_seed((self.seed * 1_000_003 + self.epoch()) % (1 << 63))",
        "manual_seed(self.seed)",
        "mini-batch epochs all shuffle the rows in the same order",
        "other",
        tests=["tests/test_minibatch_loop.py"],
    ),
    Bug(
        "_cv",
        "C, l1_ratio = float(np.mean(Cs[best_c])), float(np.mean(ratios[best_r]))",
        "C, l1_ratio = float(np.mean(Cs[best_c])), float(ratios[best_r[0]])",
        "refit=False: l1_ratio_ is the first fold's choice, not the mean over folds",
        "other",
        tests=["tests/test_cv.py"],
    ),
    Bug(
        "_net",
        "if self._callback_stop and not self._user_interrupt:",
        "if self._callback_stop:",
        "a real Ctrl-C during a callback returns a half-trained model instead of raising KeyboardInterrupt",
        "other",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_batched",
        "    if head < n:\n",
        "    if head < n - 1:\n",
        "the CV path's column sums drop the last row when the row count is one past a block",
        "other",
        tests=["tests/test_batched_whitening.py"],
    ),
    Bug(
        "_dask",
        "    check_pos_weight(targets.pos_weight, dtype)  # before any block is loaded (the workers convert it)\n",
        "",
        "a dask fit's pos_weight beyond float32 becomes infinite on the workers: the fit blames the features",
        "bad input",
        tests=["tests/test_dask.py"],
    ),
    Bug(
        "_training",
        '            pos_weight=pos_weight_tensor(targets, dtype, "cpu"),\n',
        "",
        "a dask fit's net holds no pos_weight: an overflow a huge pos_weight causes is blamed on the features",
        "bad input",
        tests=["tests/test_dask.py"],
    ),
    Bug(
        "_rows",
        "        if all((words[i : i + step] == words[first[rank[i : i + step]]]).all() for i in blocks):\n",
        "        if True:\n",
        "tied rows of one hash are merged unchecked: two different rows whose keys' hashes collide become one",
        "other",
        tests=["tests/test_contracts_rows.py"],
    ),
    Bug(
        "_threads",
        "            elif own == 1 and outer is None:\n",
        "            elif own == 1:\n",
        "a one-thread block nested in this thread's own gives the pool back when it ends, while the outer block runs",
        "other",
        tests=["tests/test_threads.py"],
    ),
    Bug(
        "_dask",
        "            largest, smallest = max(p[2] for p in parts), min(p[3] for p in parts)\n",
        "            largest, smallest = max(p[2] for p in parts), max(p[3] for p in parts)\n",
        "a dask fit takes the largest of its blocks' smallest weights: one block's weight below float32's range trains",
        "bad input",
        tests=["tests/test_dask.py"],
    ),
    Bug(
        "_inference",
        "                null_space = flat_directions(n_outputs, d, flat_columns=range(d), device=device)\n",
        "                null_space = flat_directions(n_outputs, d, flat_columns=range(1), device=device)\n",
        "a penalised multinomial summary keeps the weights' common shift: under a large finite C every error is NaN",
        "other",
        tests=["tests/test_contracts_inference.py"],
    ),
    Bug(
        "_logistic",
        '            if start is not None and "linear.bias" in start:\n',
        "            if False:\n",
        "an L1 multinomial warm start from assigned intercepts centres them on 0, not on where they started",
        "other",
        tests=["tests/test_contracts_logistic.py"],
    ),
    Bug(
        "_dask",
        '    if X.dtype.kind not in "biufOUS":\n',
        '    if X.dtype.kind not in "biuf":\n',
        "a dask fit refuses an object X of numbers that a fit in memory converts and fits",
        "bad input",
        tests=["tests/test_dask.py"],
    ),
    Bug(
        "_compare",
        '        if ours["solver"] == "lbfgs":\n',
        "        if False:\n",
        "compare says both L-BFGS fits stopped at a tol that neither met (they stopped on ftol)",
        "other",
        tests=["tests/test_compare.py"],
    ),
    Bug(
        "_persistence",
        '        return {"ndarray": [value.dtype.newbyteorder("<").str, _encode(value.tolist(), name)]}\n',
        "        return _encode(value.tolist(), name)\n",
        "a saved array parameter (Cs=np.logspace(...), a 0-d threshold) loads as a list or a float",
        "other",
        tests=["tests/test_model_files.py", "tests/test_contracts_persistence.py"],
    ),
    Bug(
        "_persistence",
        "        _require(all(type(v) in (bool, int, float) for v in leaves), "
        '"an array parameter holds other than numbers")\n',
        "        pass\n",
        "a crafted file's array parameter holding None loads as NaN",
        "bad input",
        tests=["tests/test_model_files.py", "tests/test_contracts_persistence.py"],
    ),
    Bug(
        "_data",
        "    if X.dtype in _NARROW_FLOATS or (X.dtype.is_floating_point and X.dtype.itemsize == 1):"
        "  # bfloat16, float8: exact\n",
        "    if X.dtype in _NARROW_FLOATS:\n",
        "a float8 tensor reaches the user as torch's 'Got unsupported ScalarType'",
        "bad input",
        tests=["tests/test_tensors.py"],
    ),
    Bug(
        "_inference",
        "        n_params = n_outputs * (augmented_rank if self.fit_intercept else rank)\n",
        "        n_params = len(coef)\n",
        "summary's df_model / df_resid count the design's columns, not its rank (collinear columns, p > n)",
        "other",
        tests=["tests/test_summary_statistics.py"],
    ),
    Bug(
        "_rows",
        "        same = all((_bits(X[at]) == first_x[r]).all() and (_bits(target[at]) == first_t[r]).all()"
        " for at, r in blocks)\n",
        "        same = all((_bits(X[at]) == first_x[r]).all() for at, r in blocks)\n",
        "dense tied rows of one hash that differ only in their target are merged (the check skips the targets)",
        "rows",
        tests=["tests/test_contracts_rows.py"],
    ),
    Bug(
        "_inference",
        "        design = X if counted.all() else X[counted]\n",
        "        design = X\n",
        "summary counts rows of weight 0 in the design's rank and its constant columns",
        "inference",
        tests=["tests/test_summary_statistics.py"],
    ),
    Bug(
        "_inference",
        "        return int(np.count_nonzero(~small) + np.count_nonzero(singular > tolerance))\n",
        "        return int(np.count_nonzero(~small))\n",
        "summary's rank drops near-collinear columns statsmodels keeps (the Gram's small directions not measured)",
        "inference",
        tests=["tests/test_summary_statistics.py"],
    ),
    Bug(
        "_cv",
        "        counted = train[row_weight[train] > 0]\n",
        "        counted = train\n",
        "the CV fold-lacks-a-class warning counts rows of weight 0 as samples of their class",
        "other",
        tests=["tests/test_cv.py"],
    ),
    Bug(
        "_data",
        "        elif X.indptr[0] != 0:\n",
        "        elif X.indptr[0] < 0:\n",
        "check_sparse_indices: index pointers starting at 1 let through (row 0 fitted without its first entry)",
        "bad input",
        tests=["tests/test_bad_input.py"],
    ),
    Bug(
        "_data",
        "            if problem is None and len(indices) and (indices.min() < 0 or indices.max() >= bound):\n",
        "            if problem is None and len(indices) and indices.max() >= bound:\n",
        "check_sparse_indices (COO): a negative row or column index let through (heap corruption in the fit)",
        "bad input",
        tests=["tests/test_bad_input.py"],
    ),
    Bug(
        "_kernels",
        "    if W.shape[0] == 1:\n",
        "    if W.shape[1] == 1:\n",
        "linear_scores picks the matrix-vector product by the feature count, not the output count (one feature, "
        "several classes: newton's Hessian from wrong scores, 48 steps for 5)",
        "other",
        tests=["tests/test_contracts_kernels.py", "tests/test_newton.py"],
    ),
    Bug(
        "_kernels",
        "        on_threads(gather, range(0, len(rows), COLUMN_MAJOR_CHUNK_ROWS))\n",
        "        on_threads(gather, range(0, len(rows) - 1, COLUMN_MAJOR_CHUNK_ROWS))\n",
        "the column-major training copy leaves a last chunk of one row unwritten (zeros trained on)",
        "rows",
        tests=["tests/test_contracts_kernels.py"],
    ),
    Bug(
        "_tensor_data",
        "    bound = tie_bound(X.shape[1] + target.shape[1], max(max_abs, tensor_max_abs(counted)))\n",
        "    bound = tie_bound(X.shape[1], max(max_abs, tensor_max_abs(counted)))\n",
        "the torch path's tie bound leaves out the target's width (rows ordered otherwise than on the NumPy path)",
        "rows",
        tests=["tests/test_contracts_rows.py"],
    ),
    Bug(
        "_batched",
        "        n_iter[converged & has_l1 & (budget > 0)] = 1\n",
        "        n_iter[converged & has_l1 & (budget > 0)] = 0\n",
        "CV n_iter_ counts 0 for an L1 problem optimal at its start (a single fit and saga count 1)",
        "other",
        tests=["tests/test_cv.py"],
    ),
    Bug(
        "_logistic",
        "            and self.l1_ratio > 0\n",
        "            and self.l1_ratio >= 0\n",
        "an L2 newton-cholesky warm start's intercepts shifted back to the assigned sum (scikit-learn centres them)",
        "other",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        "_solvers",
        '        if "x" in state and torch.equal(state["x"], x):\n',
        '        if "x" in state:\n',
        "L-BFGS trusts its kept objective and gradient after a callback moved the parameters (a stale start)",
        "other",
        tests=["tests/test_contracts_solvers.py", "tests/test_contracts_training.py"],
    ),
    Bug(
        "_callbacks",
        "        if not last > 2 * self.best_ + self.tol:\n",
        "        if not last > 2 * self.best_:\n",
        "a false 'steps overshoot' ConvergenceWarning when the losses near zero end within tol of the best",
        "warnings",
        tests=["tests/test_contracts_callbacks.py"],
    ),
    Bug(
        "_cv",
        '        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}\n',
        "        kwargs = {}\n",
        "TorchLogisticClassifierCV.score ignores sample_weight without metadata routing",
        "weights",
        tests=["tests/test_cv.py"],
    ),
    Bug(
        "_modules",
        "        generator = torch.Generator().manual_seed(int(seed))\n",
        "        generator = torch.Generator().manual_seed(0)\n",
        "hidden layers start from the same weights whatever random_state (restarts from several seeds do nothing)",
        "determinism",
        tests=["tests/test_multilabel.py"],
    ),
    Bug(
        "_modules",
        "            self._generator = torch.Generator(device=device).manual_seed(self.seed)\n",
        "            self._generator = torch.Generator(device=device).manual_seed(0)\n",
        "every dropout layer, under every random_state, draws the same masks",
        "determinism",
        tests=["tests/test_contracts_modules.py"],
    ),
    Bug(
        "_objective",
        "    value = torch.sum(losses.mul_(row_scale), dtype=torch.float64) * (scale * unit)\n",
        "    value = torch.sum(losses.mul_(weight), dtype=torch.float64) * scale\n",
        "float32 weights of 2e38 times losses above 1.7 overflow the objective: L-BFGS stops short, warm starts fail",
        "extreme",
        tests=["tests/test_extreme_values.py"],
    ),
    Bug(
        "_objective",
        "    return torch.sum(losses * (weight * (1.0 / unit)), dtype=torch.float64) / (weight_sum / unit)\n",
        "    return torch.sum(losses * weight, dtype=torch.float64) / weight_sum\n",
        "the autograd objective weighs float32 losses by weights of 2e38 before dividing: hidden layers 'diverge'",
        "extreme",
        tests=["tests/test_extreme_values.py"],
    ),
    Bug(
        "_cv",
        "                    largest=_largest_merged_weight(X, targets, row_weight, dtype),\n",
        "                    largest=row_weight.max(),\n",
        "CV: identical rows whose summed weight leaves float32 are refused only at the refit, after every fold",
        "extreme",
        tests=["tests/test_extreme_values.py"],
    ),
    Bug(
        "_export",
        "    estimator._check_label_settings()  # the graph's labels are predict's: refused where predict's are\n",
        "",
        "to_onnx exports a 1-D multi-label model whose threshold, set after fit, predict refuses (it cuts at 0.5)",
        "other",
        tests=["tests/test_onnx.py"],
    ),
    Bug(
        "_threads",
        "            own, mkl = 1, None\n",
        "            pass\n",
        "a child forked inside a small fit gives back the parent's thread count on leaving it (GNU OpenMP then hangs)",
        "threads",
        tests=["tests/test_threads.py"],
    ),
    Bug(
        "_threads",
        "        if mkl not in (None, 1):  # OpenMP's 1 under a limit (MKL above it): the limit kept, "
        "whatever own says\n",
        "        if own == 1 and mkl not in (None, 1):\n",
        "a small fit under an OpenMP limit of 1 gives the thread 2 OpenMP threads while another thread's fit runs",
        "threads",
        tests=["tests/test_threads.py"],
    ),
    Bug(
        "_newton",
        "            H = data_hessian(X, probabilities, weight * (1.0 / unit), criterion.kind, fit_intercept, "
        "product_dtype)\n",
        "            H = data_hessian(X, probabilities, weight, criterion.kind, fit_intercept, product_dtype)\n",
        "newton-cholesky's float32 Hessians weigh by weights of 2e38 undivided: each overflows, rebuilt in float64",
        "extreme",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        "_training",
        "            smallest=train.weight.min() if train.n_samples else None,  # the rows' merged weights, "
        "all positive\n",
        "            smallest=None,\n",
        "float32 weights of 1e-44 for every row (9.8e-45 in float32) train 1% from the optimum, silently",
        "extreme",
        tests=["tests/test_extreme_values.py"],
    ),
    Bug(
        "_objective",
        "        and S < n_rows * torch.finfo(dtype).tiny / 2\n",
        "        and S > 0\n",
        "a few float32 weights below the normal range beside ordinary ones are refused (they change nothing)",
        "extreme",
        tests=["tests/test_extreme_values.py"],
    ),
    Bug(
        "_inference",
        '        "bic": -2 * llf + math.log(nobs) * n_params if nobs > 0 else np.nan,\n',
        '        "bic": -2 * llf + math.log(nobs) * (n_params - n_constants) if nobs > 0 else np.nan,\n',
        "summary's BIC counts the parameters without the intercepts (statsmodels counts df_model + k_constant)",
        "inference",
        tests=["tests/test_summary_statistics.py"],
    ),
    Bug(
        "_inference",
        '        if table.attrs["df_resid"] < 0 <= len(Y) - n_params:\n',
        "        if False:\n",
        "summary says nothing of sample weights summing to fewer observations than parameters (df_resid < 0)",
        "inference",
        tests=["tests/test_summary_statistics.py"],
    ),
    Bug(
        "_multilabel",
        '        if training and self.early_stopping and self.solver == "auto" and self._solver() == "lbfgs":\n',
        "        if False:\n",
        "multi-label early_stopping=True with solver='auto' on the linear model is ignored silently (L-BFGS)",
        "warnings",
        tests=["tests/test_multilabel.py"],
    ),
    Bug(
        "_inference",
        "            if k != m:  # the mirror of each block above the diagonal\n",
        "            if False:  # the mirror of each block above the diagonal\n",
        "a sparse multinomial summary leaves the Hessian's blocks below the diagonal empty (only (k, m), not (m, k))",
        "inference",
        tests=["tests/test_inference.py"],
    ),
    Bug(
        "_inference",
        "    out.index_put_(at, torch.as_tensor(G.data, dtype=torch.float64, device=out.device), accumulate=True)\n",
        "    out.index_put_(at, torch.as_tensor(G.data, dtype=torch.float64, device=out.device), accumulate=False)\n",
        "a sparse X's Gram matrices (summary's Hessian, design_ranks) keep only the last chunk of rows' products",
        "inference",
        tests=["tests/test_summary_statistics.py"],
    ),
    Bug(
        "_inference",
        "    return info == 0 and rcond > _FULL_RANK_RCOND\n",
        "    return info == 0 and rcond > 1e-14\n",
        "design_ranks calls a design full rank from a condition estimate that the eigenvalue test would not accept",
        "inference",
        tests=["tests/test_inference.py"],
    ),
    Bug(
        "_kernels",
        "    if not np.all(X.data):\n",
        "    if False:\n",
        "explicit zeros stored in a sparse X move a fit's last bits (float32 CV coefficients by 4.8e-7)",
        "rows",
        tests=["tests/test_sparse.py"],
    ),
    Bug(
        "_inference",
        "        present = diagonal > 0\n",
        "        present = diagonal >= 0\n",
        "design_ranks sends every design with a column of zeros to the eigendecomposition (9 d^3 flops, not d^3 / 3)",
        "inference",
        tests=["tests/test_inference.py"],
    ),
    Bug(
        "_newton",
        "        stalled = before - after <= self.ftol * max(abs(before), abs(after), 1.0)\n",
        "        stalled = before - after <= self.ftol * max(abs(before), abs(after))\n",
        "Newton's fall-back L-BFGS stops on a relative decrease without L-BFGS-B's floor of 1 on the objective",
        "stopping",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        "_cv",
        '        if targets.kind == "multinomial" and self.fit_intercept:\n',
        '        if targets.kind == "multinomial":\n',
        "a multinomial L1 CV path without an intercept centres its last feature's coefficients (L1 zeros move)",
        "other",
        tests=["tests/test_cv.py"],
    ),
    Bug(
        "_cv",
        "                solve(problem, some, x[some], ftol=ftol_for(torch.float64), "
        "max_iter=self.max_iter - n_iter[some])\n",
        "                solve(problem, some, None, ftol=ftol_for(torch.float64), "
        "max_iter=self.max_iter - n_iter[some])\n",
        "the CV's float64 continuation restarts stalled float32 problems from zero, spending more of max_iter",
        "float32",
        tests=["tests/test_cv.py"],
    ),
    Bug(
        "_batched",
        "            torch.stack([grad_max <= tol, stalled, failed & ~flat, torch.isfinite(f_new)]).cpu().numpy()\n",
        "            torch.stack([grad_max <= tol, stalled, failed, torch.isfinite(f_new)]).cpu().numpy()\n",
        "a CV problem whose line search fails flat at float64's rounding floor is reported as failing to converge",
        "stopping",
        tests=["tests/test_batched_whitening.py", "tests/test_cv.py"],
    ),
    Bug(
        "_batched",
        "        G = torch.where(G > 0, G, 1e-10 * G.mean(1, keepdim=True).clamp_min(1e-300))\n",
        "        G = torch.maximum(G, 1e-10 * G.mean(1, keepdim=True).clamp_min(1e-300))\n",
        "the CV's diagonal scaling floors every column at 1e-10 of the mean curvature: a 1e20 column flattens the rest",
        "extreme",
        tests=["tests/test_cv.py"],
    ),
    Bug(
        "_inference",
        "            if not penalised and result.converged and result.value <= PERFECT_PREDICTION * counted_weight:\n",
        "            if False:\n",
        "summary of completely separated multinomial classes reports finite standard errors, converged, silently",
        "inference",
        tests=["tests/test_inference.py"],
    ),
    Bug(
        "_targets",
        "        if not np.isfinite(total):  # weights summing beyond float64: the fit's words, "
        "not a NaN class weight\n",
        "        if False:  # weights summing beyond float64: the fit's words, not a NaN class weight\n",
        "class_weight='balanced' with weights summing beyond float64 names a NaN class weight the user never gave",
        "weights",
        tests=["tests/test_extreme_values.py"],
    ),
    Bug(
        "_inference",
        "            measured = (std_err > 0) & ~noise.cpu().numpy()\n",
        "            measured = std_err > 0\n",
        "summary() measures the fit's distance from the optimum in sandwich standard errors that are rounding noise",
        "inference",
        tests=["tests/test_inference.py"],
    ),
    Bug(
        "_persistence",
        '    return all(a.dtype.kind in "fiu" and np.all(np.isfinite(a)) for layer in layers for a in layer)\n',
        '    return all(a.dtype.kind in "fiu" for layer in layers for a in layer)\n',
        "a crafted pickle or skops state with NaN coefficients loads and predicts NaN probabilities",
        "files",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_persistence",
        '    _require(np.ndim(classes) == 1, "classes_ is not one-dimensional")  '
        "# predict would return (n, 1) labels\n",
        "",
        "a crafted pickle or skops state with a 2-D classes_ loads and predicts (n, 1) labels",
        "files",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_base",
        '        if overrides(kind, "on_grad_computed") and solver not in MINI_BATCH_SOLVERS:\n',
        "        if False:\n",
        "GradientNormClipping with L-BFGS or Newton is accepted and never called, in silence",
        "other",
        tests=["tests/test_minibatch_loop.py"],
    ),
    Bug(
        "_predict",
        "    return np.dtype(np.float32) if common == np.float32 else np.dtype(np.float64)\n",
        "    return np.dtype(np.float64)\n",
        "probabilities of float32 X from a float32 model come back float64 (LogisticRegression's are float32)",
        "other",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_summary_table",
        '    ("Pseudo R-squ.:", "prsquared", "{:#.4g}".format),\n',
        '    ("Pseudo R-squ.:", "prsquared", "{:.4f}".format),\n',
        "summary's header prints a weak model's pseudo R-squared with four decimals (0.0005; statsmodels 0.0005356)",
        "other",
        tests=["tests/test_summary_statistics.py"],
    ),
    Bug(
        "_objective",
        "        block = (slice(None), rows) if axis == 0 else (rows, slice(None))\n",
        "        block = (rows, slice(None)) if axis == 0 else (slice(None), rows)\n",
        "a large multi-label fit sums its losses over blocks of labels where it meant blocks of rows",
        "other",
    ),
    Bug(
        "_rows",
        "        block[...] = target[start:stop]\n",
        "        block[...] = target[start:stop][::-1]\n",
        "a multi-label fit's row keys take their labels' term from another row of the block",
        "other",
    ),
    Bug(
        "_kernels",
        "    if np.count_nonzero(place < n) < n:  # a row given twice holds one place\n",
        "    if False:\n",
        "rows given twice, gathered from a CSC matrix, come back as one row and an empty one",
        "other",
    ),
    Bug(
        "_batched",
        "        plain = torch.as_tensor(has_l1, device=gram.device) | (info != 0)\n",
        "        plain = torch.as_tensor(has_l1, device=gram.device) | (info < 0)\n",
        "a CV problem whose Gram matrix failed to factorise is whitened by the half-computed factor",
        "other",
    ),
    Bug(
        "_rows",
        "        if not ((indices[at_a] == indices[at_b]).all() and (data[at_a] == data[at_b]).all()):\n",
        "        if not (indices[at_a] == indices[at_b]).all():\n",
        "tied sparse rows that share a hash and differ only in their values are ranked as one row",
        "other",
    ),
    Bug(
        "_rows",
        "    step = max(1, _CONTENT_BLOCK_VALUES // (tied_target.shape[1] + 2 * width))\n",
        "    step = m\n",
        "the tied sparse rows' padded keys built all at once (4.4x the rows' matrix at the peak)",
        "other",
    ),
    Bug(
        "_rows",
        "    return np.unique(rank * (int(within.max()) + 1) + within, return_inverse=True)[1].ravel()\n",
        "    return rank\n",
        "different tied sparse rows that share a hash are merged as one row",
        "other",
    ),
    Bug(
        "_rows",
        "        if all((block == first_words[rank[start:stop]]).all() for start, stop, block in blocks):\n",
        "        if all((b[:, :-1] == first_words[rank[start:stop]][:, :-1]).all() for start, stop, b in blocks):\n",
        "repeated tied sparse rows checked against their hash's first row without their last word",
        "other",
    ),
    Bug(
        "_data",
        '        attribute = next((name for name in ("n_iter_", "intercept_") if name in vars(estimator)), "coef_")\n',
        '        attribute = "n_iter_"\n',
        "in array-API mode a model assigned by hand is checked on n_iter_, which it lacks (AttributeError)",
        "other",
    ),
    Bug(
        "_data",
        '    assert_all_finite(X.data, input_name="X")\n    return X\n',
        "    return X\n",
        "sparse duplicate entries that sum past the dtype's range are not refused (COO predicted [0, 1])",
        "other",
    ),
    Bug(
        "_predict",
        "    if len(layers) == 1 and given is not None:\n",
        "    if False:\n",
        "float16, small-integer and boolean input on a float32 linear model score in float64, not float32",
        "other",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_data",
        '            f"Sparse data was passed for {name}, but dense data is required. "\n',
        '            "Sparse data was passed for y, but dense data is required. "\n',
        "a sparse sample_weight or classes tensor is refused as a sparse y",
        "other",
    ),
    Bug(
        "_logistic",
        "            if not np.isfinite(self.C):\n                self.coef_ = self.coef_ - self.coef_.mean(",
        "            if False:\n                self.coef_ = self.coef_ - self.coef_.mean(",
        "an unpenalised multinomial newton-cholesky fit keeps a warm start's coefficient offsets after its fall-back",
        "other",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        "_newton",
        "    return float((weight * zero).sum()) > 0.25 * float(weight.sum())\n",
        "    return False\n",
        "separable data at C=inf: Newton goes on without scikit-learn's pointwise-hessian warning and fall-back",
        "other",
    ),
    Bug(
        "_data",
        '        refuse_non_finite(coo.data, "X", owner)\n',
        "",
        "a fit on CSR duplicates that sum past float64 advises dtype='float64' to a float64 model",
        "other",
    ),
    Bug(
        "_targets",
        '        shown = f"{classes[0]}." if cv else repr(classes[0])\n',
        "        shown = repr(classes[0])\n",
        "the CV estimator refuses a single class in LogisticRegression's words, not LogisticRegressionCV's",
        "other",
        tests=["tests/test_cv.py"],
    ),
    Bug(
        "_training",
        "            if steps is not None and steps[0] < steps[1]:",
        "            if False:",
        "a mini-batch fit on merged repeated rows stops at max_iter without saying its epochs were shorter",
        "other",
        tests=["tests/test_contracts_base.py"],
    ),
    Bug(
        "_base",
        "        check_picklable(self)\n        state = dict(super().__getstate__())\n",
        "        state = dict(super().__getstate__())\n",
        "a model with hand-set inf coefficients pickles into a file that cannot be loaded",
        "other",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_persistence",
        "    if kind is not None and stat.S_ISFIFO(kind):",
        "    if False:",
        "load opens a named pipe and waits for a writer forever",
        "files",
        tests=["tests/test_persistence.py"],
    ),
    Bug(
        "_compare",
        "    except MemoryError:",
        "    except ZeroDivisionError:",
        "compare on data past the machine's memory ends in NumPy's MemoryError traceback",
        "other",
    ),
    Bug(
        "_training",
        "                net.optimizer_.fallback_gtol = self.tol\n",
        "",
        "newton's fall-back takes an L-BFGS step where scikit-learn's stops before iterating (n_iter_ one more)",
        "other",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        "_newton",
        "                del net.history[-1]\n",
        "",
        "a fall-back that takes no step still counts an iteration",
        "other",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        "_newton",
        "            return _scipy_solve_words(H_free, G[:free]) or (",
        "            return None or (",
        "a Hessian whose Cholesky fails is reported in our words, not SciPy's as scikit-learn's",
        "other",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        "_compat",
        "    if parse_version(scipy.__version__).release >= (1, 17):",
        "    if False:",
        "an ill-conditioned Hessian is reported in SciPy 1.16's words under SciPy 1.17",
        "other",
        tests=["tests/test_newton.py"],
    ),
    Bug(
        "_compat",
        '    elif sklearn.get_config()["assume_finite"]:',
        "    elif False:",
        "under assume_finite a NaN sample weight is dropped with its row, silently",
        "input",
        tests=["tests/test_bad_input.py"],
    ),
    Bug(
        "_data",
        '    refuse_non_finite(X.data if sp.issparse(X) else X, "X", owner)\n',
        "",
        "under assume_finite a NaN in X is reported as an overflow of the training dtype",
        "input",
        tests=["tests/test_bad_input.py"],
    ),
    Bug(
        "_cv",
        '        if get_config()["assume_finite"]:',
        "        if False:",
        "under assume_finite the CV estimator's path fits NaN and its refit names TorchLogisticClassifier",
        "input",
        tests=["tests/test_bad_input.py"],
    ),
    Bug(
        "_inference",
        "    return 8 * max(PEAK_MATRICES * n_params * n_params, DESIGN_MATRICES * (n_features + 1) ** 2)",
        "    return 8 * PEAK_MATRICES * n_params * n_params",
        "summary's memory guard leaves design_ranks' matrices out",
        "other",
        tests=["tests/test_contracts_inference.py", "tests/test_inference.py"],
    ),
    Bug(
        "_inference",
        "            d if multilabel else n_params,",
        "            n_params,",
        "a multi-label summary is budgeted as all labels refined together",
        "other",
        tests=["tests/test_contracts_inference.py"],
    ),
    Bug(
        "_inference",
        "    S = G.copy() if present.all() else G[np.ix_(present, present)]\n    S /= norms[present][:, None]",
        "    S = G.copy() if present.all() else G[np.ix_(present, present)]\n    S = S / norms[present][:, None]",
        "design_ranks scales its Gram matrix into a new matrix (one more than counted)",
        "other",
        tests=["tests/test_contracts_inference.py"],
    ),
    Bug(
        "_inference",
        "        y = column_or_1d(y, warn=True)",
        "        y = column_or_1d(y)",
        "summary takes a column-vector y without the DataConversionWarning fit gives",
        "input",
        tests=["tests/test_inference.py"],
    ),
    Bug(
        "_persistence",
        '            model._check_fit_settings(state["_fit_settings"], alone=True)',
        '            model._check_fit_settings(state["_fit_settings"])',
        "a model whose parameters were set after fit pickles into a file that cannot be unpickled",
        "files",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_incremental",
        "                if first_call or not weighted:",
        "                if True:",
        "partial_fit refuses a batch class_weight gives no weight, as all-zero sample weights",
        "other",
        tests=["tests/test_partial_fit.py"],
    ),
    Bug(
        "_dask",
        '    if not is_dask_array(y) and not hasattr(y, "ndim"):',
        "    if False:",
        "a dask fit with y as a list reaches a raw AttributeError",
        "input",
        tests=["tests/test_dask.py"],
    ),
    Bug(
        "_dask",
        "        if 0 < data.given_max_abs and max_abs < torch.finfo(DTYPES[estimator.dtype]).tiny:",
        "        if False:",
        "a float32 dask fit of values below float32's range fits zeros silently",
        "input",
        tests=["tests/test_dask.py"],
    ),
    Bug(
        "_dask",
        "        if not math.isfinite(cast):",
        "        if False:",
        "a float32 dask fit of values beyond float32 fails as non-finite parameters",
        "input",
        tests=["tests/test_dask.py"],
    ),
    Bug(
        "_dask",
        '    if name == "sample_weight" and array.ndim == 1 and array.shape[0] != n_rows:',
        "    if False:",
        "a dask fit's short sample_weight is refused in other words than scikit-learn's",
        "input",
        tests=["tests/test_dask.py", "tests/test_contracts_dask.py"],
    ),
    Bug(
        "_dask",
        '    if classes.dtype.kind == "f":',
        "    if False:",
        "NaN in dask labels reaches a cast's RuntimeWarning first",
        "input",
        tests=["tests/test_dask.py"],
    ),
    Bug(
        "_data",
        '    advice = "Rescale X." if dtype == torch.float64 else',
        '    advice = "Rescale X." if False else',
        "subnormal float64 X is told to use dtype='float64'",
        "input",
        tests=["tests/test_extreme_values.py"],
    ),
    Bug(
        "_training",
        "            if steps is not None and steps[0] < steps[1]:",
        "            if rows is not None and rows[0] < rows[1]:",
        "the merged-rows sentence claims fewer steps an epoch where the counts are equal",
        "other",
        tests=["tests/test_contracts_base.py"],
    ),
    Bug(
        "_training",
        "            if self.verbose and isinstance(stopping, NoImprovementStopping):",
        "            if False:",
        "verbose output does not say why a mini-batch fit stopped",
        "other",
        tests=["tests/test_contracts_fit_setup.py"],
    ),
    Bug(
        "_net",
        "        if isinstance(text, str) and not _is_terminal(sys.stdout):",
        "        if False:",
        "verbose output writes colour codes into files and pipes",
        "other",
        tests=["tests/test_contracts_fit_setup.py"],
    ),
    Bug(
        "_multilabel",
        '"validation_fraction": [Interval(Real, 0, 1, closed="left")]',
        '"validation_fraction": [Interval(Real, 0, 1, closed="neither")]',
        "validation_fraction=0 is refused without early stopping",
        "input",
        tests=["tests/test_multilabel.py"],
    ),
    Bug(
        "_compat",
        "    if kind is inspect.Parameter.KEYWORD_ONLY:",
        "    if False:",
        "the CV estimator's score takes sample_weight by position silently where scikit-learn warns",
        "other",
        tests=["tests/test_cv.py"],
    ),
    Bug(
        "_batched",
        "        problem.pooled_values = x_part.shape[0] * problem.n_outputs * problem.design_values\n",
        "",
        "the CV batch's products stay on one thread whatever their size",
        "other",
        tests=["tests/test_threads.py"],
    ),
    Bug(
        "_base",
        "            activation = self._fitted_activation()\n            tensor",
        '            activation = getattr(self, "activation", "identity")\n            tensor',
        "a tensor predicted with an activation set after fit that names none (no activation, silently)",
        "other",
        tests=["tests/test_contracts_fit_setup.py"],
    ),
    Bug(
        "_base",
        "        self._fitted_activation()  # the file's model is the one predict uses: refused where predict refuses"
        " it\n",
        "",
        "save writes a model whose activation names none (a raw KeyError)",
        "other",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_persistence",
        "the format's limits below\n        _check_state(model)",
        "the format's limits below\n        pass",
        "save refuses NaN coefficients with a TypeError that says pickle stores them",
        "other",
        tests=["tests/test_persistence.py"],
    ),
    Bug(
        "_persistence",
        'params.get("callbacks") in (None, [])',
        'params.get("callbacks") is None',
        "save refuses callbacks=[] (no callbacks) as if it held callbacks",
        "other",
        tests=["tests/test_persistence.py"],
    ),
    Bug(
        "_persistence",
        '    _require(not missing, f"it lacks the parameters {missing[:6]}, as a state of another estimator does")\n',
        "",
        "another estimator's pickled state loads under a torchlogit class's name",
        "other",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_persistence",
        '        "n_iter_" not in state or record in state,',
        "        True,",
        "a fitted state without torchlogit's record of the fit loads, and fails at predict",
        "other",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_persistence",
        "        all(_finite_moment(v) for m in moments for v in m.values()),",
        "        True,",
        "optimizer moments that are strings or NaN load, and fail in partial_fit",
        "other",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_inference",
        'at_limit = int(np.max(host_array(getattr(self, "n_iter_", np.zeros(1))))) >= self.max_iter',
        'at_limit = int(np.max(getattr(self, "n_iter_", np.zeros(1)))) >= self.max_iter',
        "summary of an array-API fit stopped at max_iter raises torch's TypeError",
        "other",
        tests=["tests/test_tensors.py"],
    ),
    Bug(
        "_multilabel",
        "        _check_label_lists(y)\n        expected = ",
        "        expected = ",
        "a multi-label summary meets lists of label sets with NumPy's inhomogeneous-shape error",
        "input",
        tests=["tests/test_contracts_multilabel.py"],
    ),
    Bug(
        "_multilabel",
        '        self._check_target_form("multilabel" if Y.ndim == 2 else "classes", "partial_fit")\n',
        "",
        "partial_fit with targets of the other form blames the classes",
        "input",
        tests=["tests/test_multilabel.py"],
    ),
    Bug(
        "_multilabel",
        "        if threshold.ndim > 1 or (threshold.ndim == 1 and threshold.shape != (n_labels,)):",
        "        if threshold.ndim == 1 and threshold.shape != (n_labels,):",
        "a 2-D threshold of valid values is told its values are out of range",
        "input",
        tests=["tests/test_contracts_multilabel.py"],
    ),
    Bug(
        "_base",
        '        alias = "coefs_[0]" if hasattr(type(self), "coefs_") else None',
        "        alias = None",
        "a linear multi-label model's wrong coefs_[0] is described only by a coef_ shape the user never wrote",
        "input",
        tests=["tests/test_fitted_state.py"],
    ),
    Bug(
        "_targets",
        "            shown = next((v for k, v in class_weight.items() if k == label), shown)",
        "            pass",
        "a class weight of None is shown as nan in the refusal",
        "input",
        tests=["tests/test_bad_input.py"],
    ),
]


def module_tests(module, broad=False, seeded=True, root=ROOT):
    """The test files a bug in ``module`` is judged by (as listed in the copy of the repository at ``root``)."""
    if broad:
        files = sorted(str(p.relative_to(root)) for p in (root / "tests").glob("test_*.py"))
        files = [f for f in files if f not in BROAD_EXCLUDE and f != SEEDED_TESTS]
    else:
        config = tomllib.loads((root / "scripts" / "mutation.toml").read_text())
        files = list(config["modules"].get(module, {}).get("tests", [])) + EXTRA_MODULE_TESTS.get(module, [])
    if seeded and (root / SEEDED_TESTS).exists():
        files.append(SEEDED_TESTS)
    # The same files, the targeted ones first (the seeded-bug tests, then the contract tests): with -x a caught
    # bug then stops early. The verdict does not depend on the order; only the time to reach it does.
    first = [f for f in files if f == SEEDED_TESTS] + [f for f in files if "/test_contracts_" in f]
    return list(dict.fromkeys(first + files))


def check_bugs():
    """Every old text occurs exactly once in its (pristine) file, and no two bugs are the same edit."""
    seen = set()
    for number, bug in enumerate(BUGS, 1):
        source = (ROOT / bug.file).read_text()
        count = source.count(bug.old)
        assert count == 1, f"bug {number} ({bug.description}): old text occurs {count} times in {bug.file}"
        assert bug.old != bug.new, f"bug {number}: no edit"
        key = (bug.file, bug.old, bug.new)
        assert key not in seen, f"bug {number}: duplicate"
        seen.add(key)


def prepare_scratch(scratch):
    """A copy of the repository's package, tests and settings (no .git, venv or build outputs)."""
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mutation", "mutants")
    for name in ("torchlogit", "tests", "scripts", "benchmarks", "examples", "docs"):
        shutil.copytree(ROOT / name, scratch / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "noxfile.py"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, scratch / name)


def run_tests(scratch, files, timeout):
    """``(passed, first failure, seconds, output tail)`` of pytest on ``files`` in ``scratch``."""
    # SEEDED_BUG_DRILL: the copy carries one bug on purpose (tests/test_seeded_bugs.py's check of the drill skips).
    env = dict(os.environ, PYTHONPATH=str(scratch), PYTHONDONTWRITEBYTECODE="1", SEEDED_BUG_DRILL="1")
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *files]
    start = time.monotonic()
    try:
        done = subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"timeout after {timeout} s", time.monotonic() - start, ""
    seconds = time.monotonic() - start
    output = done.stdout + done.stderr
    if done.returncode == 0:
        return True, None, seconds, output[-2000:]
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", output, flags=re.M)
    reason = failed[0] if failed else f"pytest exit code {done.returncode}"
    return False, reason, seconds, output[-2000:]


def check_scratch_imports(scratch):
    """The scratch copy, not the installed package, is what the tests import."""
    env = dict(os.environ, PYTHONPATH=str(scratch))
    out = subprocess.run(
        [sys.executable, "-c", "import torchlogit; print(torchlogit.__file__)"],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out.startswith(str(scratch)), f"the tests would import {out}, not the scratch copy"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", type=int, action="append", help="run bug N (1-based; repeatable)")
    parser.add_argument("--from", dest="start", type=int, default=1, help="start at bug N")
    parser.add_argument("--list", action="store_true", help="list the bugs (after checking them) and exit")
    parser.add_argument("--broad", action="store_true", help="run tests/ minus slow files, not the module's list")
    parser.add_argument("--no-seeded-tests", action="store_true", help=f"leave {SEEDED_TESTS} out")
    parser.add_argument("--tests", action="append", help="run these test files (or node ids) instead (repeatable)")
    parser.add_argument("--scratch", default="/tmp/seeded/work", help="scratch copy of the repository")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per bug (a timeout is reported, undecided)")
    parser.add_argument("--json", help="write the results to this JSON file")
    args = parser.parse_args(argv)

    check_bugs()
    numbers = args.only or list(range(args.start, len(BUGS) + 1))
    if args.list:
        for n in numbers:
            bug = BUGS[n - 1]
            print(f"{n:3d}  {bug.module:13s} {bug.kind:12s} {bug.description}")
        return 0

    scratch = Path(args.scratch)
    prepare_scratch(scratch)
    check_scratch_imports(scratch)
    results = []
    print("| # | module | bug | result | caught by | time (s) |")
    print("|---|---|---|---|---|---|", flush=True)
    total_start = time.monotonic()
    for n in numbers:
        bug = BUGS[n - 1]
        target = scratch / bug.file
        pristine = (ROOT / bug.file).read_text()
        assert target.read_text() == pristine, f"{target} differs from {bug.file}: scratch copy is stale"
        files = args.tests or module_tests(bug.module, broad=args.broad, seeded=not args.no_seeded_tests, root=scratch)
        if not args.tests:  # the bug's own extra files, after its module's
            files = list(dict.fromkeys(files + bug.tests))
        try:
            target.write_text(pristine.replace(bug.old, bug.new, 1))
            passed, failure, seconds, tail = run_tests(scratch, files, args.timeout)
        finally:
            target.write_text(pristine)
        result = "missed" if passed else "timeout" if failure.startswith("timeout") else "caught"
        results.append(
            dict(
                number=n,
                module=bug.module,
                kind=bug.kind,
                description=bug.description,
                result=result,
                caught_by=failure,
                seconds=round(seconds, 1),
                tests=files,
            )
        )
        print(f"| {n} | {bug.module} | {bug.description} | {result} | {failure or ''} | {seconds:.0f} |", flush=True)
        if args.json:  # after each bug, so that an interrupted drill keeps what it found
            Path(args.json).write_text(json.dumps(dict(results=results), indent=1))
    caught = sum(r["result"] == "caught" for r in results)
    timeouts = sum(r["result"] == "timeout" for r in results)
    elapsed = time.monotonic() - total_start
    print(f"\ncaught {caught} of {len(results)} ({timeouts} undecided: timeout) in {elapsed:.0f} s", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(dict(results=results, seconds=round(elapsed)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
