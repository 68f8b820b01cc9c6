"""The training set of one ``fit`` / ``partial_fit``: from what the user passed to the batches a net trains on.

One path for the data, whatever came in (NumPy, pandas, SciPy sparse, torch dense or
sparse, on any device):

1. **validation**: in torch where the data lives for dense float tensors, arrays and DataFrames
   (:func:`._tensor_data.tensor_fit_inputs`), otherwise on the host
   (:func:`._data.fit_inputs`, scikit-learn's ``validate_data``, which words every error);
2. **labels**: the estimator's ``_targets`` (``_partial_targets`` for ``partial_fit``):
   encoding, class weights, ``pos_weight``;
3. **canonical rows** (:func:`._data.training_rows`): one fixed order of the rows and
   identical rows merged with their weights summed, so that a fit is bitwise the same for
   any order of the rows and weights equal repeated rows;
4. **the hold-out** for early stopping (:func:`hold_out`): ``validation_fraction`` of the rows as given
   (``MLPClassifier``'s share), drawn in canonical order, so that a canonical row merging ``c`` identical
   rows may send some of them to each part (with its weight shared accordingly);
5. **the one copy** in the training dtype on the training device (:meth:`TrainingSet.batch`;
   a float32 fit that stalls asks for a float64 batch of the same rows).

The estimators keep the scikit-learn surface (parameters, validation of the parameters,
the fitted attributes) and the training loop; they see a :class:`TrainingSet` and the
:class:`Part` it is split into, never the mechanics above.
"""

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.model_selection import train_test_split

from ._data import fit_inputs, host_array, training_batch, training_rows, weight_total
from ._kernels import numpy_dtype
from ._tensor_data import tensor_fit_inputs
from ._threads import data_values


class Part:
    """Canonical rows of the training set (indices into its ``X``) and their merged weights."""

    def __init__(self, rows, weight):
        self.rows = rows
        self.weight = weight

    @property
    def n_samples(self):
        """Distinct rows (identical rows were merged): the number of rows the net trains on."""
        return len(self.rows)

    @property
    def weight_sum(self):
        """The sum of the weights, a float (see :func:`._data.weight_total`)."""
        return weight_total(self.weight)

    def any_weight(self):
        return bool((self.weight > 0).any())


class TrainingSet:
    """Validated inputs, their targets and, once asked for, their canonical rows.

    Build it with :meth:`from_user`; :meth:`split` gives the training part and the
    validation part (early stopping) and :meth:`batch` the tensors of a part.
    """

    def __init__(self, X, targets, sample_weight, device, max_abs=None, owner=None):
        self.X = X
        self.owner = owner  # the estimator's class name, for scikit-learn's words on values refused late
        self.targets = targets
        self.sample_weight = sample_weight
        self.device = device
        self.max_abs = max_abs  # of X, when validation in torch measured it (None: not known)
        self._canonical = None

    @classmethod
    def from_user(cls, estimator, X, y, sample_weight, device, *, reset=True, partial=False, classes=None):
        """Validate what the user passed and encode its labels (steps 1 and 2).

        ``reset`` as scikit-learn's ``validate_data`` (``False`` on a ``partial_fit`` after the
        first: the features must match). ``partial`` encodes the labels among ``classes`` or
        the fitted ``classes_`` (``partial_fit``).
        """
        prepared = tensor_fit_inputs(estimator, X, y, sample_weight, device, reset=reset)
        if prepared is None:
            X, y, sample_weight = fit_inputs(estimator, X, y, sample_weight, reset=reset)
            max_abs = None
        else:
            X, y, sample_weight, max_abs = prepared
        if partial:
            targets = estimator._partial_targets(y, host_array(classes, name="classes"), sample_weight)
        else:
            targets = estimator._targets(y, sample_weight)
        return cls(X, targets, sample_weight, device, max_abs, owner=type(estimator).__name__)

    @property
    def n_features(self):
        return self.X.shape[1]

    @property
    def n_rows(self):
        """Rows as given (before identical rows are merged)."""
        return self.X.shape[0]

    @property
    def n_outputs(self):
        return self.targets.n_outputs

    @property
    def sparse(self):
        """Whether the validated X is a scipy sparse matrix (the torch path takes dense tensors only)."""
        return sp.issparse(self.X)

    @property
    def n_values(self):
        """Values the data hold: rows x features, or the stored values of a sparse matrix."""
        return data_values(self.X)

    @property
    def X_dtype(self):
        """The input's NumPy dtype (float32 input gives float32 coefficients, as in scikit-learn)."""
        return numpy_dtype(self.X.dtype)

    def _rows(self):
        if self._canonical is None:
            self._canonical = training_rows(self.X, self.targets, self.sample_weight, self.max_abs)
        return self._canonical

    def split(self, validation_fraction=None, seed=None):
        """``(train, valid)`` :class:`Part` s of the canonical rows; ``valid`` is None without a fraction."""
        rows, weight, counts = self._rows()
        if validation_fraction is None:
            return Part(rows, weight), None
        held = hold_out(rows, counts, self.targets, validation_fraction, seed)
        kept = counts - held
        on_tensors = isinstance(rows, torch.Tensor)

        def part(share):
            at = np.flatnonzero(share)
            # A merged row's weight is shared as its rows are: exact for equal weights, the mean otherwise.
            factor = share[at] / counts[at]
            if on_tensors:
                at_t = torch.as_tensor(at, device=rows.device)
                return Part(rows[at_t], weight[at_t] * torch.as_tensor(factor, device=weight.device))
            return Part(rows[at], weight[at] * factor)

        return part(kept), part(held)

    def batch(self, part, dtype, batch_size, column_major=False, linear=False):
        """The tensors of ``part`` on the training device in ``dtype``: the one copy of its rows.

        ``column_major``: a dense copy laid out by columns (:func:`._kernels.column_major_copy`). ``linear``: for a
        linear model (its label matrix laid out as its objective reads it, see :func:`._data.training_batch`).
        """
        # Every row of X (in canonical order): the copy's largest |value| is X's, known from validation.
        max_abs = self.max_abs if len(part.rows) == self.X.shape[0] else None
        return training_batch(
            self.X,
            self.targets,
            part.rows,
            part.weight,
            dtype,
            self.device,
            batch_size,
            column_major,
            max_abs,
            linear,
            owner=self.owner,
        )


def hold_out(rows, counts, targets, validation_fraction, seed):
    """How many of each canonical row's ``counts`` given rows are held out for validation, as ``MLPClassifier``
    draws them: ``train_test_split`` of the rows as given (``stratify`` for binary 1-D classes), taken in canonical
    order so that any order of the rows holds out the same ones. With no merged rows (every count 1) that is a
    split of the canonical rows. Drawn on the host, whether the rows were prepared in NumPy or in torch, so both
    paths hold out the same rows.

    Distinct rows were split before (8 distinct rows of 5000 were refused as too few to hold out; a row
    repeated 900 times in 1000 could be held out whole, and the model trained without it).
    """
    given = np.repeat(np.arange(len(counts)), counts)
    stratify = None if targets.stratify is None else host_array(targets.stratify[rows])[given]
    try:
        split = train_test_split(
            np.arange(len(given)), test_size=validation_fraction, random_state=seed, stratify=stratify
        )
    except ValueError as exc:
        raise ValueError(
            f"early_stopping could not hold out validation_fraction={validation_fraction} "
            f"of {len(given)} training rows: {exc}"
        ) from None
    if len(split[1]) < 2:  # MLPClassifier's rule and words: one row cannot tell whether the loss improves
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' or the size of your dataset "
            f"(early_stopping held out {len(split[1])} of {len(given)} training rows)."
        )
    return np.bincount(given[split[1]], minlength=len(counts))
