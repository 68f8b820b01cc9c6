"""partial_fit: one epoch of the mini-batch solver per call, continuing the previous calls.

Used directly or by ``dask_ml.wrappers.Incremental`` on the blocks of a dask array.
"""

import numpy as np
import torch

from ._callbacks import check_finite_parameters
from ._dask import worker_thread_share
from ._data import classes_to_host, follow_labels, follow_origin, host_array, origin_of
from ._devices import without_autocast
from ._modules import resume_dropout_streams
from ._solvers import MINI_BATCH_SOLVERS
from ._state import keep_state_on_failure, load_optimizer_moments, load_warm_start
from ._targets import pos_weight_tensor
from ._threads import step_values, threads_for
from ._training_set import TrainingSet


class IncrementalMixin:
    """``partial_fit`` plumbing shared by the estimators (each documents its own ``partial_fit``)."""

    def _check_partial_fit(self):
        """``available_if`` test: partial_fit exists for the mini-batch solvers only (as in MLPClassifier)."""
        try:
            solver = self._solver()
        except ValueError:  # an invalid parameter: partial_fit itself will say which
            return True
        if solver not in MINI_BATCH_SOLVERS:
            raise AttributeError(
                f"partial_fit is only available for the mini-batch solvers 'adam' and 'sgd'; this "
                f"{type(self).__name__} uses solver={solver!r}."
            )
        return True

    def _partial_fit(self, X, y, classes, sample_weight):
        """One epoch of the mini-batch solver over ``(X, y)``, continuing the previous calls."""
        # scikit-learn's _fit_context skips the parameters' validation for partial_fit on a fitted estimator:
        # a value set since (l1_ratio=2, batch_size=0, dtype="float16") would be used, or fail inside torch.
        self._validate_params()
        origin = origin_of(X)
        # Autograd trains hidden layers: a fit called inside the caller's torch.inference_mode() needs it on.
        with keep_state_on_failure(self), worker_thread_share(), torch.inference_mode(False), without_autocast():
            classes_to_host(self)
            device, dtype = self._check_solver_options(partial=True)
            first_call = not hasattr(self, "classes_")
            if not first_call:  # a model assigned to an unfitted estimator goes on from its arrays, as SGDClassifier's
                self._complete_assigned_model()
            data = TrainingSet.from_user(
                self, X, y, sample_weight, device, reset=first_call, partial=True, classes=classes
            )
            train, _ = data.split()
            if not train.any_weight():
                weighted = bool((np.asarray(host_array(data.sample_weight, name="sample_weight")) > 0).any())
                if first_call or not weighted:
                    raise ValueError(
                        "The sample weights of this batch are all zero."
                        if not weighted
                        else "class_weight gives every row of this first batch a weight of zero: partial_fit has "
                        "nothing to start from. Pass a batch holding a class of positive weight first."
                    )
                # class_weight of 0 for every class of the batch (a stream sorted by label): SGDClassifier takes it,
                # its epoch moving nothing but the penalty's decay; here the batch's objective has no weight to
                # scale its penalty by (see partial_fit), and the model is left as it was.
                return self
            # The objective of this call is that of a fit on this batch: its weight sum sets
            # the scale of the penalty (see the partial_fit docstring).
            self._check_scales(train, dtype)
            batch_size = self._batch_size(train.n_samples, data.n_rows)
            batch = data.batch(train, dtype, batch_size)
            pos_weight = pos_weight_tensor(data.targets, dtype, device)
            if not first_call:
                self._check_target_form(data.targets.kind, "partial_fit")
                self._check_intercepts_kept()
            net = self._incremental_net(data.n_features, data.targets, device, dtype, pos_weight)
            net.criterion_.weight_sum = train.weight_sum
            net.criterion_.n_samples = train.n_samples
            net.criterion_.pos_weight = pos_weight
            net.batch_size = batch_size
            # One step's batch decides the threads (see ._threads.mini_batch_threads).
            with threads_for(step_values(data.n_values, train.n_samples, batch_size)):
                net.partial_fit(batch, epochs=1)
            check_finite_parameters(net)
            self._publish(net, data.targets, incremental=True, X_dtype=data.X_dtype)
            follow_origin(self, origin)
            follow_labels(self, y)
        return self

    def _check_intercepts_kept(self):
        """Refuse ``fit_intercept=False`` set between calls on a model with learned intercepts.

        The call would go on without them, dropping what the previous calls learned (accuracy 0.96 -> 0.50
        in one call, measured); ``SGDClassifier`` keeps the intercept it has. ``fit`` with ``warm_start``
        drops it as ``LogisticRegression``'s does: that is a new fit, this one continues.
        """
        # Only the output layer's bias follows fit_intercept: hidden layers keep theirs (see _modules.MLPLogits).
        if self.fit_intercept or not np.any(self._fitted_layers(dense=True)[-1][1] != 0):
            return
        raise ValueError(
            "fit_intercept=False was set after the model learned intercepts (in fit or partial_fit), which this "
            "partial_fit call would drop. Set fit_intercept=True to go on, or fit a new model without intercepts."
        )

    def _incremental_net(self, n_features, targets, device, dtype, pos_weight):
        """The net this partial_fit call trains, rebuilt from the fitted state.

        It starts from the fitted arrays (``coef_`` / ``coefs_``) if any; after a previous
        ``partial_fit`` it also takes back that call's optimizer moments, shuffling seed
        and epoch count, so that the calls continue one another as one net would.
        """
        partial = getattr(self, "_partial_state", None)
        seed = partial["seed"] if partial is not None else self._seed()
        module, module_kwargs = self._module(n_features, targets.n_outputs)
        net = self._make_net(
            module,
            module_kwargs,
            device,
            dtype,
            kind=targets.kind,
            weight_sum=1.0,
            n_samples=1,
            pos_weight=pos_weight,
            # The L1 step's totals go on only within one solver (a switch of solver starts its moments afresh too).
            callbacks=self._net_callbacks(
                targets.kind,
                l1_start=partial.get("l1") if partial is not None and partial["solver"] == self._solver() else None,
            ),
            seed=seed,
        )
        net.initialize()
        # Fitted (the first call sets classes_ before this), or a model assigned (coef_, intercept_, classes_).
        if "n_iter_" in vars(self) or ("coef_" in vars(self) and "_kind" in vars(self)):
            load_warm_start(net.module_, self._fitted_state(net.module_))
        if partial is not None:
            resume_dropout_streams(net.module_, partial.get("dropout"))  # (absent in states pickled before it)
            if partial["solver"] == self._solver():
                load_optimizer_moments(net.optimizer_, partial["optimizer"])
            # The epoch count goes on (it numbers the epochs and seeds their shuffling).
            history = self._previous_history()
            # The previous rows themselves, not copies (skorch writes only the new epoch's row): a deep copy of every
            # row per call made each call slower than the last (6 ms, then 80 ms after 3000 calls of 32 rows). But
            # the last one copied: it is "the current row" until the call's first epoch begins, where a callback's
            # history.record() at on_train_begin writes, and a call that then fails left that record in the fitted
            # history_.
            net.history.extend(history[:-1] + [dict(history[-1])] if history else history)
            net.carried_rows_ = len(history)  # already plain: _publish converts only the rows after them
            _carry_best_train_loss(net, history)
        return net


def _carry_best_train_loss(net, history):
    """Start the net's ``train_loss`` scoring from the best epoch of the previous calls.

    skorch's ``PassthroughScoring`` starts its best score at infinity when the net is initialised, and each call's
    net is new: every call's epoch was recorded as ``train_loss_best``, a worse one included, so a
    ``Checkpoint(monitor="train_loss_best")`` saved every call and kept the last model, not the best.
    """
    losses = [row["train_loss"] for row in history if isinstance(row.get("train_loss"), (int, float))]
    if not losses:
        return
    for name, callback in net.callbacks_:
        if name == "train_loss" and hasattr(callback, "best_score_"):
            callback.best_score_ = min(losses)
