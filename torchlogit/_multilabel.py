"""TorchMultiLabelClassifier: independent yes/no labels trained jointly with BCE-with-logits."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_consistent_length, column_or_1d, validate_data

from ._base import BaseTorchClassifier
from ._dask import dask_label_targets
from ._data import host_array
from ._docstrings import fill_doc
from ._kernels import ACCEPT_SPARSE, numpy_dtype
from ._modules import ACTIVATIONS, LinearLogits, MLPLogits, checked_layers
from ._predict import indicator_labels
from ._targets import Targets, encode_labels, encode_partial_labels
from ._user_warnings import warn


@fill_doc(methods="multilabel", max_iter=200, learning_rate_init=0.001)
class TorchMultiLabelClassifier(BaseTorchClassifier):
    """Several independent binary labels per sample, trained jointly with PyTorch through skorch.

    The model ends in one logit per label (no sigmoid inside the module). The loss is
    BCE-with-logits summed over labels and averaged over (weighted) samples, plus the
    same penalty as :class:`TorchLogisticClassifier` on every weight matrix, never on
    biases::

        (1/S) sum_i s_i sum_l BCE(z_il, y_il) + 1/(2 C S) sum_layers ||W||^2

    With ``hidden_layer_sizes=()`` (the default) this is a linear model and the
    objective splits label by label: it equals one
    :class:`sklearn.linear_model.LogisticRegression` per label with the same ``C``.

    Parameters
    ----------
    hidden_layer_sizes : int or array-like of int, default=()
        Width of each hidden layer; ``()`` is the linear model.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers.
    dropout : float in [0, 1), default=0.0
        Dropout after each hidden activation. Needs hidden layers (the linear model
        has none: a ``ValueError``) and a stochastic solver ("adam" or "sgd"): L-BFGS
        needs a deterministic objective.
    ${C}
        The penalty is ``||W||^2 / (2 C S)`` for every solver (``S`` the weight sum of all
        the training rows), so ``C = 1 / alpha`` gives ``MLPClassifier``'s penalty with
        "lbfgs". Its "adam" and "sgd" add ``alpha ||W||^2 / (2 b)`` to each mini-batch of
        ``b`` rows instead, a penalty ``n / b`` times stronger: there
        ``C = batch_size / (n_samples * alpha)`` matches it.
    ${l1_ratio}
    fit_intercept : bool, default=True
        Whether to learn an (unpenalised) intercept per label: the output layer's bias.
        With hidden layers, ``False`` drops that bias only; the hidden layers keep theirs
        (``intercepts_[:-1]``), as ``MLPClassifier``'s layers all have one.
    pos_weight : array-like of shape (n_labels,), "balanced" or None, default=None
        Weight of the positive term of each label's BCE (torch's ``pos_weight``), for
        labels that are rarely on. "balanced" uses ``n_negative / n_positive`` per
        label, counted with ``sample_weight`` (1 for a label that is never on or always on).
        Multi-label targets only. Not ``MultiOutputClassifier(LogisticRegression(
        class_weight="balanced"))``: that weighs each label's negatives by
        ``n / (2 n_negative)`` as well, which changes each label's penalty strength; the same
        model here is ``pos_weight`` set to the ratio and ``C`` rescaled per label, which one
        shared ``C`` cannot do (at ``C=1`` on 6000 predictions, 2 flip; at ``C=0.01``, 42).
        To port such a model exactly, fit one ``TorchLogisticClassifier(class_weight="balanced")``
        per label.
    threshold : float or array-like of shape (n_labels,), default=0.5
        A label is predicted on when its probability exceeds its threshold.
        Multi-label targets only: with 1-D targets (a one-column ``Y`` included) a value
        other than 0.5 raises a ``ValueError`` rather than being ignored.
    solver : {"auto", "lbfgs", "adam", "sgd"}, default="auto"
        "auto" is "lbfgs" for the linear model (a convex problem: full-batch L-BFGS
        reaches the exact optimum, as scikit-learn's ``LogisticRegression`` does) and
        "adam" with hidden layers (non-convex: mini-batch Adam is what
        ``MLPClassifier`` defaults to, scales to large data and allows dropout).
        "lbfgs" is our own L-BFGS (``torchlogit._solvers.LBFGS``, SciPy L-BFGS-B's
        history, curvature test and ``maxls``, strong-Wolfe line search, OWL-QN with an
        L1 part), not ``torch.optim.LBFGS``; "adam" / "sgd" are ``torch.optim.Adam`` /
        ``torch.optim.SGD``. The linear model's L-BFGS is one run over all labels
        together (one line search, one stopping rule), so it needs more iterations than
        one ``LogisticRegression`` per label, more with more labels: on the raw counts of
        ``make_multilabel_classification(800, 20, n_classes=8, random_state=0)``, float64,
        C=1, 70, 149 and 225 iterations for its first 2, 4 and 8 labels (the last past the
        default ``max_iter=200``: it stops there and warns), where each label alone takes 22
        to 35. Standardise the features, or raise ``max_iter``, when it warns.
    ${max_iter}
    ${tol}
    ${learning_rate_init}
    ${batch_size}
    ${momentum}
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training rows and stop when their
        log-loss has not improved by ``tol`` for ``n_iter_no_change`` epochs, keeping
        the best parameters ("adam" / "sgd" only, as in ``MLPClassifier``).
    validation_fraction : float, default=0.1
        Share of the training rows (as given, identical ones counted each) held out for
        early stopping, as ``MLPClassifier`` draws it: stratified for binary 1-D ``y``, at
        random otherwise (multiclass 1-D ``y`` too, where a class may have one sample).
        Rows of ``sample_weight`` 0 are not training rows here (they are dropped before the
        split; ``MLPClassifier`` counts them): 10 weighted rows among 100 hold out one.
        In ``[0, 1)``; 0 is refused at ``fit`` only with ``early_stopping`` (as there).
    ${n_iter_no_change}
    ${warm_start}
    ${device}
    ${dtype}
    ${random_state}
    ${verbose}
    ${callbacks}

    Attributes
    ----------
    classes_ : ndarray
        ``MLPClassifier``'s convention: for an indicator matrix ``Y`` of ``n_labels``
        columns, ``np.arange(n_labels)`` (the column indices); for 1-D ``y``, the sorted
        class labels.
    coef_ : ndarray of shape (n_outputs, n_features)
        Linear model only: one row per label (one row in all for binary 1-D ``y``).
    intercept_ : ndarray of shape (n_outputs,)
        Linear model only.
    coefs_ : list of ndarray
        Weight matrix of each layer, shaped ``(n_in, n_out)`` as in ``MLPClassifier``.
    intercepts_ : list of ndarray
        Bias vector of each layer.
    n_iter_ : ndarray of shape (1,)
        L-BFGS iterations, or epochs for "adam" / "sgd" (of this fit; a warm-started
        "adam" / "sgd" fit appends its epochs' losses to ``loss_curve_`` and ``history_``,
        as ``MLPClassifier``'s warm starts append to its ``loss_curve_``).
    loss_ : float
        The training objective at the last iteration or epoch (``loss_curve_[-1]``; NaN
        after a warm start that took no iteration, or for a loaded model), as
        ``MLPClassifier``'s ``loss_``.
    best_loss_ : float or None
        The lowest training objective of the fit (``min(loss_curve_)``); None with early
        stopping ("adam" / "sgd"), as in ``MLPClassifier``.
    n_layers_ : int
        Number of layers, input and output included (``MLPClassifier``'s count).
    n_outputs_ : int
        Number of outputs: the labels, one for binary 1-D ``y``, the classes otherwise.
    out_activation_ : str
        "logistic" (labels, or binary 1-D ``y``) or "softmax" (1-D ``y`` of more classes).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` had string column names.
    ${fitted_net}

    See Also
    --------
    TorchLogisticClassifier : One label with two or more classes.
    sklearn.multioutput.MultiOutputClassifier : One independent model per label.
    sklearn.neural_network.MLPClassifier : scikit-learn's multi-layer perceptron.

    Notes
    -----
    1-D ``y`` is accepted as ``MLPClassifier`` accepts it: two classes give one
    logit and a sigmoid, more give a softmax over classes. A single-column ``Y`` is
    treated as 1-D ``y`` (with a ``DataConversionWarning``), also as ``MLPClassifier``
    does.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from torchlogit import TorchMultiLabelClassifier
    >>> X, Y = make_multilabel_classification(n_samples=200, n_classes=4, random_state=0)
    >>> Y[:2]
    array([[1, 0, 1, 0],
           [0, 0, 0, 0]])
    >>> clf = make_pipeline(StandardScaler(), TorchMultiLabelClassifier(C=1.0)).fit(X, Y)
    >>> clf.predict(X[:2])
    array([[1, 0, 0, 0],
           [0, 1, 0, 0]])
    >>> clf.predict_proba(X).shape  # one independent probability per label
    (200, 4)
    >>> round(float((clf.predict(X) == Y).mean()), 2)
    0.85
    """

    _tensor_target_ndims = (1, 2)  # labels or an indicator matrix, checked where the data lives

    _parameter_constraints: dict = {
        **BaseTorchClassifier._parameter_constraints,
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "pos_weight": ["array-like", StrOptions({"balanced"}), None],
        "threshold": [Interval(Real, 0, 1, closed="neither"), "array-like"],
        "solver": [StrOptions({"auto", "lbfgs", "adam", "sgd"})],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],  # MLPClassifier's: 0 without early stopping
    }

    def __init__(
        self,
        hidden_layer_sizes=(),
        *,
        activation="relu",
        dropout=0.0,
        C=1.0,
        l1_ratio=0.0,
        fit_intercept=True,
        pos_weight=None,
        threshold=0.5,
        solver="auto",
        max_iter=200,
        tol=1e-4,
        learning_rate_init=0.001,
        batch_size="auto",
        momentum=0.9,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        warm_start=False,
        device="cpu",
        dtype="float32",
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.pos_weight = pos_weight
        self.threshold = threshold
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.momentum = momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like or sparse matrix of shape (n_samples, n_labels), or (n_samples,)
            A 0/1 indicator matrix (dense or sparse), one column per label; or 1-D class
            labels, as ``MLPClassifier`` accepts.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : TorchMultiLabelClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    @available_if(BaseTorchClassifier._check_partial_fit)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of the mini-batch solver ("adam" or "sgd") over ``(X, y)``.

        Calls continue from the previous ones (parameters and optimizer state), as
        :class:`~sklearn.neural_network.MLPClassifier`'s do; after ``fit`` the first call
        continues the fit (a mini-batch fit: its optimizer moments and epoch count too, as
        MLPClassifier's; otherwise its parameters). Available when the solver is "adam" or
        "sgd" (``solver="auto"`` with hidden layers is "adam"). This is what
        ``dask_ml.wrappers.Incremental`` calls on each block of a dask array.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data; the same features on every call.
        y : array-like or sparse matrix of shape (n_samples, n_labels), or (n_samples,)
            Its 0/1 indicator matrix (or 1-D class labels), of the form of the first call
            (or of ``fit``): a model fitted on one form refuses the other (``fit`` with
            ``warm_start=True`` too, as ``MLPClassifier``'s does; its ``partial_fit`` accepts
            the change silently).
        classes : array-like, default=None
            Required on the first call. For an indicator ``y``: ``np.arange(n_labels)``,
            the label indices (the ``classes_`` of a fitted model); for 1-D labels: every
            class that will ever appear.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of this batch's samples.

        Returns
        -------
        self : TorchMultiLabelClassifier
            The updated estimator.

        Notes
        -----
        Each call minimises the objective of a fit on that batch alone, so the penalty is
        scaled by the batch's weight sum (see ``TorchLogisticClassifier.partial_fit``).
        ``pos_weight="balanced"`` needs all the data at once and is refused; pass an
        array. ``max_iter`` and ``tol`` do not apply, and ``early_stopping=True`` is refused
        (as ``MLPClassifier.partial_fit`` refuses it). Setting
        ``fit_intercept=False`` between calls on a model with learned intercepts is refused.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import make_multilabel_classification
        >>> from torchlogit import TorchMultiLabelClassifier
        >>> X, Y = make_multilabel_classification(n_samples=400, n_classes=4, random_state=0)
        >>> clf = TorchMultiLabelClassifier(hidden_layer_sizes=(16,), random_state=0)
        >>> for X_batch, Y_batch in zip(np.array_split(X, 4), np.array_split(Y, 4)):
        ...     clf = clf.partial_fit(X_batch / 10, Y_batch, classes=np.arange(4))
        >>> clf.predict(X[:2] / 10).shape
        (2, 4)
        """
        return self._partial_fit(X, y, classes, sample_weight)

    def _partial_targets(self, Y, classes, sample_weight):
        # The form first: a model of the other form was told its classes were wrong (for Y of another width), even
        # when they were np.arange(n_labels) as the message asked.
        self._check_target_form("multilabel" if Y.ndim == 2 else "classes", "partial_fit")
        if Y.ndim == 1:
            self._check_one_d_targets()  # pos_weight and threshold, as fit refuses them (predict did, after)
            self._y_dtype = None
            return encode_partial_labels(self, Y, classes)
        n_labels = Y.shape[1]
        if classes is None and not hasattr(self, "classes_"):
            raise ValueError("classes must be passed on the first call to partial_fit.")
        expected = getattr(self, "classes_", np.arange(n_labels))
        given = None if classes is None else np.asarray(classes).tolist()
        if (given is not None and given != expected.tolist()) or n_labels != len(expected):
            raise ValueError(
                f"For a label-indicator y, classes must be the label indices np.arange(n_labels) of every call: "
                f"expected {expected.tolist()}, got classes={given} and y with {n_labels} columns."
            )
        if isinstance(self.pos_weight, str):
            raise ValueError(
                "pos_weight='balanced' is not supported for partial_fit: it needs the label counts of all the data. "
                "Pass one weight per label."
            )
        targets = self._targets(Y, sample_weight)
        return targets

    # ------------------------------------------------------------- fit hooks
    def _solver(self):
        if self.solver != "auto":
            return self.solver
        return "adam" if self._hidden_sizes() else "lbfgs"

    def _structure_sizes(self):
        return self._hidden_sizes()

    def _hidden_sizes(self):
        # As MLPClassifier: an int is one hidden layer; any 1-D array-like of ints is accepted.
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(np.asarray(sizes).tolist())
        if not all(isinstance(n, Integral) and not isinstance(n, bool) and n >= 1 for n in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be a tuple of positive integers, got {self.hidden_layer_sizes!r}."
            )
        return sizes

    def _recorded_scores(self):
        # Only a fit that holds rows out records them (L-BFGS ignores early_stopping, as MLPClassifier's does).
        return super()._recorded_scores() | ({"valid_loss"} if self._validation_fraction() is not None else set())

    def _check_solver_options(self, here=True, partial=False, training=True):
        resolved = super()._check_solver_options(here, partial, training)
        if partial and self.early_stopping:  # MLPClassifier's refusal, in its words: one call is one epoch
            raise ValueError("partial_fit does not support early_stopping=True")
        hidden = self._hidden_sizes()
        if self.dropout > 0 and not hidden:
            raise ValueError(
                f"dropout={self.dropout} acts after hidden layers, and hidden_layer_sizes=() has none: the linear "
                "model would ignore it. Set hidden_layer_sizes or dropout=0."
            )
        if self.dropout > 0 and self._solver() == "lbfgs":
            raise ValueError(
                f"dropout={self.dropout} needs a stochastic solver ('adam' or 'sgd'): L-BFGS needs a "
                "deterministic objective. Set solver='adam' or dropout=0."
            )
        if training and self.early_stopping and self.solver == "auto" and self._solver() == "lbfgs":
            # MLPClassifier's default solver is adam, where its early_stopping=True works: here "auto" is L-BFGS for
            # the linear model, which ignores it (as MLPClassifier's lbfgs does), and the fit said nothing.
            warn(
                "early_stopping=True applies to the mini-batch solvers ('adam', 'sgd'): solver='auto' is 'lbfgs' for "
                "the linear model (hidden_layer_sizes=()), which trains on every row to the optimum and ignores it. "
                "Pass solver='adam' to hold out validation_fraction and stop early, or early_stopping=False.",
                UserWarning,
            )
        return resolved

    def _warm_start_appends(self):
        """MLPClassifier's warm-started "adam" / "sgd" fits append to ``loss_curve_`` (a loop of ``fit`` calls with
        ``max_iter=1`` traces the whole curve); its L-BFGS fits keep their own."""
        return self._mini_batch()

    def _validate_fit_data(self, X, Y, reset=True):
        if sp.issparse(Y):
            Y = Y.toarray()  # the label matrix is small next to X; X itself stays as given
        _check_label_lists(Y)
        nullable = _nullable_label_dtype(Y)
        X, Y = validate_data(
            self, X, Y, reset=reset, multi_output=True, accept_sparse=ACCEPT_SPARSE, dtype=[np.float64, np.float32]
        )
        if (
            nullable is not None
            and Y.ndim == 2
            and Y.shape[1] > 1
            and Y.dtype.kind == "f"
            and np.all((Y == 0) | (Y == 1))
        ):
            # pandas' "Int64" / "boolean" indicator columns arrive as float64 (validation refused any missing value):
            # the predictions take their NumPy dtype, as the docs promise the training Y's dtype. (1-D class labels
            # are classes_, predicted as MLPClassifier predicts them.)
            Y = Y.astype(nullable)
        if sp.issparse(Y):  # a pandas frame of sparse columns becomes a SciPy matrix in validation
            Y = Y.toarray()
        if Y.ndim == 2 and Y.shape[1] == 1:
            Y = column_or_1d(Y, warn=True)
        return X, Y

    def _check_one_d_targets(self, *, fitting=True):
        """Refuse the multi-label options for 1-D targets (a column vector included), which would ignore them."""
        one_d = (
            "y is 1-D (a one-column Y is read as 1-D class labels, as MLPClassifier reads it), and its "
            "prediction is the most probable class"
        )
        if fitting and self.pos_weight is not None:
            raise ValueError(f"pos_weight applies to multi-label (indicator matrix) targets; {one_d}.")
        if np.ndim(self.threshold) != 0 or float(self.threshold) != 0.5:
            raise ValueError(
                f"threshold applies to multi-label (indicator matrix) targets; {one_d}. Leave threshold=0.5, "
                "or wrap the model in sklearn.model_selection.FixedThresholdClassifier for a binary threshold."
            )

    def _targets(self, Y, sample_weight):
        if Y.ndim == 1:
            self._check_one_d_targets()
            self._y_dtype = None
            return encode_labels(Y)
        if not isinstance(Y, torch.Tensor) and Y.dtype.kind == "O":
            # Objects (pandas' category or object columns included): scikit-learn's type_of_target says "unknown"
            # and every multi-label classifier refuses them; the model would predict Python booleans.
            check_classification_targets(Y)
        # One pass for the check (a sort of every entry, torch.unique / np.unique, took 12 s / 3 s for a 20k x 2000
        # label matrix); the distinct values only for the error message.
        if not bool(((Y == 0) | (Y == 1)).all()):
            values = torch.unique(Y).cpu().numpy() if isinstance(Y, torch.Tensor) else np.unique(Y)
            raise ValueError(
                "Y must be a 0/1 indicator matrix of shape (n_samples, n_labels); it contains the values "
                f"{values[:10].tolist()}. Use sklearn.preprocessing.MultiLabelBinarizer to build one from "
                "lists of labels."
            )
        n_labels = Y.shape[1]
        self._check_thresholds(n_labels)  # before training: predict (and a saved file) would refuse them
        self._y_dtype = numpy_dtype(Y.dtype)
        # The checked 0/1 labels as uint8: a float64 matrix (one byte of eight used) stayed alive through
        # training beside the training copy (20k x 2000 labels: 320 MB). Canonical rows read it a block at a time.
        return Targets(
            kind="multilabel",
            target=Y.to(torch.uint8) if isinstance(Y, torch.Tensor) else Y.astype(np.uint8),
            classes=np.arange(n_labels),
            n_outputs=n_labels,
            pos_weight=self._pos_weight(Y, sample_weight),
        )

    def _pos_weight(self, Y, sample_weight):
        def counts():  # "balanced": on the host (a tensor fit's labels and weights copied once), as the NumPy path
            weight = host_array(sample_weight, name="sample_weight")
            with np.errstate(over="ignore"):  # weights summing beyond float64: refused with the fit's words
                return weight @ host_array(Y), weight.sum()

        return self._pos_weight_from_counts(Y.shape[1], counts)

    def _pos_weight_from_counts(self, n_labels, counts):
        """``pos_weight`` as an array; ``counts()`` gives (weighted positives per label, weight sum) for "balanced"."""
        if self.pos_weight is None:
            return None
        if isinstance(self.pos_weight, str):  # "balanced": negatives over positives, per label
            positive, total = counts()
            with np.errstate(invalid="ignore"):  # inf - inf where the weights sum beyond float64: refused later
                negative = total - positive
            # 1 for a label that is never on, and for one that is always on: n_negative / n_positive = 0 there
            # would remove the label's whole loss (its probability left at 0.5, predicted off).
            both = (positive > 0) & (negative > 0)
            return np.where(both, negative / np.where(both, positive, 1), 1.0)
        expected = f"pos_weight must hold one finite, non-negative weight per label ({n_labels})"
        try:
            pos_weight = np.asarray(self.pos_weight, dtype=np.float64)
        except (TypeError, ValueError):  # a dict, strings, ragged lists: NumPy's own words name none of it
            raise ValueError(f"{expected}, as an array-like of numbers; got {self.pos_weight!r}.") from None
        if pos_weight.shape != (n_labels,):
            raise ValueError(f"{expected}; got an array of shape {pos_weight.shape}.")
        if not np.all(np.isfinite(pos_weight)) or np.any(pos_weight < 0):
            raise ValueError(f"{expected}; got {pos_weight.tolist()}.")
        return pos_weight

    def _check_loaded_params(self):
        super()._check_loaded_params()
        if self._kind != "multilabel":
            self._check_one_d_targets()
            return
        self._thresholds()  # one per label, each in (0, 1): what predict needs
        if not isinstance(self.pos_weight, str):  # "balanced" was computed from the training labels
            self._pos_weight_from_counts(self._n_outputs, counts=None)

    def _dask_targets(self, Y, sample_weight):
        if Y.ndim == 1:
            self._check_one_d_targets()
            self._y_dtype = None
            return dask_label_targets(Y, sample_weight, None)
        import dask
        import dask.array as da

        if Y.dtype.kind == "O":  # as in memory (see _targets): the model would predict Python booleans
            check_classification_targets(np.zeros((1, 2), dtype=object))  # scikit-learn's "Unknown label type"
        values = np.unique(da.unique(Y).compute())
        if not np.all(np.isin(values, [0, 1])):
            raise ValueError(
                "Y must be a 0/1 indicator matrix of shape (n_samples, n_labels); it contains the values "
                f"{values[:10].tolist()}."
            )
        n_labels = Y.shape[1]
        self._check_thresholds(n_labels)
        self._y_dtype = Y.dtype

        def counts():
            if sample_weight is None:
                return dask.compute(Y.sum(axis=0), Y.shape[0])
            return dask.compute((Y * sample_weight[:, None]).sum(axis=0), sample_weight.sum())

        return Targets(
            kind="multilabel",
            target=None,  # checked and converted block by block on the workers
            classes=np.arange(n_labels),
            n_outputs=n_labels,
            pos_weight=self._pos_weight_from_counts(n_labels, counts),
        )

    def _module(self, n_features, n_outputs):
        sizes = self._hidden_sizes()
        if not sizes:
            return LinearLogits, dict(n_features=n_features, n_outputs=n_outputs, bias=self.fit_intercept)
        return MLPLogits, dict(
            n_features=n_features,
            n_outputs=n_outputs,
            hidden_layer_sizes=sizes,
            activation=self.activation,
            dropout=self.dropout,
            bias=self.fit_intercept,
        )

    def _set_coefs(self, coefs, intercepts):
        if len(coefs) == 1:  # the linear model
            super()._set_coefs(coefs, intercepts)
            self.__dict__.pop("_coefs", None)
            self.__dict__.pop("_intercepts", None)
        else:
            self._coefs, self._intercepts = list(coefs), list(intercepts)
            # A previous linear fit's coef_ must not outlive it.
            self.__dict__.pop("coef_", None)
            self.__dict__.pop("intercept_", None)

    def _has_model(self):
        return "coef_" in vars(self) or "_coefs" in vars(self)

    def _fitted_layers(self, dense=False):
        if "coef_" in vars(self):
            return super()._fitted_layers(dense)
        coefs, intercepts = self.coefs_, self.intercepts_
        if len(coefs) != len(intercepts):
            raise ValueError(
                f"coefs_ holds {len(coefs)} layers but intercepts_ {len(intercepts)}: each layer has one weight "
                "matrix and one bias vector. Assign lists of the fitted lengths, or fit again."
            )
        return checked_layers(
            list(zip(coefs, intercepts, strict=True)), self.n_features_in_, self._n_outputs, ("coefs_", "intercepts_")
        )

    @property
    def coefs_(self):
        """list of ndarray: weight matrix of each layer, shaped ``(n_in, n_out)`` as in ``MLPClassifier``.

        They are the model: predictions use them, so editing them (or assigning a new
        list) changes predictions. For the linear model, ``[coef_.T]``, a view of
        ``coef_``; after :meth:`sparsify` (a sparse ``coef_``), a read-only dense copy:
        assign ``coefs_`` (or ``coef_``) to change the model.
        """
        if "coef_" in vars(self):
            coef = self.coef_
            if hasattr(coef, "toarray"):
                # A copy, not a view of the sparse matrix: an edit in place would be lost without a word.
                dense = coef.T.toarray()
                dense.flags.writeable = False
                return _WrittenBack([dense], self, "coefs_")
            return _WrittenBack([coef.T], self, "coefs_")
        if "_coefs" in vars(self):
            return self._coefs
        raise AttributeError("'TorchMultiLabelClassifier' object has no attribute 'coefs_' (it is not fitted).")

    @coefs_.setter
    def coefs_(self, value):
        if "coef_" in vars(self):
            (W,) = _one_layer(value, "coefs_")
            self.coef_ = np.ascontiguousarray(np.asarray(W).T)
        else:  # arrays, as the linear model's setter makes them (a list of lists reached NumPy's .shape errors)
            self._coefs = [np.asarray(W) for W in value]

    @coefs_.deleter
    def coefs_(self):
        # MLPClassifier's coefs_ is a plain attribute: deleting the model's arrays makes a warm-start fit start cold.
        self._delete_layers("coefs_", linear="coef_", stored="_coefs")

    def _delete_layers(self, name, *, linear, stored):
        """``del`` of ``coefs_`` / ``intercepts_``: the linear model's array or the stored layers."""
        for attribute in (linear, stored):
            if attribute in vars(self):
                delattr(self, attribute)
                return
        raise AttributeError(name)

    def _require_fitted(self, name):
        if "n_iter_" not in vars(self):
            raise AttributeError(f"'TorchMultiLabelClassifier' object has no attribute '{name}' (it is not fitted).")

    # MLPClassifier's descriptive attributes, derived from the fitted state (so that a loaded model has them).
    @property
    def n_outputs_(self):
        """int: number of outputs (labels; one for binary 1-D ``y``; the classes otherwise)."""
        self._require_fitted("n_outputs_")
        return int(self._n_outputs)

    @property
    def n_layers_(self):
        """int: number of layers, input and output included, as ``MLPClassifier`` counts them."""
        self._require_fitted("n_layers_")
        return len(self.coefs_) + 1

    @property
    def out_activation_(self):
        """str: the output's activation, "logistic" or "softmax" (``MLPClassifier``'s names)."""
        self._require_fitted("out_activation_")
        return "softmax" if self._kind == "multinomial" else "logistic"

    @property
    def loss_(self):
        """float: the training objective at the last iteration or epoch (NaN if the fit took none, or for a model
        loaded from a file, which keeps no training history)."""
        self._require_fitted("loss_")
        curve = getattr(self, "loss_curve_", None)
        return float(curve[-1]) if curve else float("nan")

    @property
    def best_loss_(self):
        """float or None: the lowest training objective of the fit (``min(loss_curve_)``); None with early stopping,
        which keeps the epoch of the best held-out loss instead (``MLPClassifier``'s convention)."""
        self._require_fitted("best_loss_")
        curve = getattr(self, "loss_curve_", None)
        if self.early_stopping and self._mini_batch():
            return None
        return float(min(curve)) if curve else float("nan")

    @property
    def intercepts_(self):
        """list of ndarray: bias vector of each layer (they are the model, as ``coefs_``)."""
        if "coef_" in vars(self):
            return _WrittenBack([self.intercept_], self, "intercepts_")
        if "_intercepts" in vars(self):
            return self._intercepts
        raise AttributeError("'TorchMultiLabelClassifier' object has no attribute 'intercepts_' (it is not fitted).")

    @intercepts_.setter
    def intercepts_(self, value):
        if "coef_" in vars(self):
            (self.intercept_,) = _one_layer(value, "intercepts_")
        else:
            self._intercepts = [np.asarray(b) for b in value]

    @intercepts_.deleter
    def intercepts_(self):
        self._delete_layers("intercepts_", linear="intercept_", stored="_intercepts")

    def _summary_targets(self, X, y, sample_weight):
        if self._kind != "multilabel":
            return super()._summary_targets(X, y, sample_weight)
        # fit's words for the forms fit refuses (lists of label sets, strings, a 1-D y), not NumPy's ("inhomogeneous
        # shape", "could not convert string to float") or check_array's advice to reshape a 1-D y into one column.
        _check_label_lists(y)
        expected = f"y must be the 0/1 indicator matrix of the {self._n_outputs} labels seen in fit"
        values = y if sp.issparse(y) else np.asarray(y)
        if values.ndim != 2:
            raise ValueError(f"{expected}; got a {values.ndim}-D y of shape {values.shape}.")
        try:
            Y = check_array(y.toarray() if sp.issparse(y) else y, ensure_2d=True, dtype=np.float64, input_name="y")
        except ValueError as exc:
            if not str(exc).startswith("could not convert"):  # NaN, inf, no rows: scikit-learn's words
                raise
            found = np.unique(values.astype(str))[:10].tolist()
            raise ValueError(f"{expected}; it contains the values {found}.") from None
        check_consistent_length(X, Y)
        if Y.shape[1] != self._n_outputs or not np.all(np.isin(Y, [0, 1])):
            raise ValueError(f"{expected}; got shape {Y.shape} with values {np.unique(Y)[:10].tolist()}.")
        pos_weight = self._pos_weight(Y, sample_weight)
        importance = np.ones_like(Y) if pos_weight is None else np.where(Y == 1, pos_weight, 1.0)
        return Y, importance

    # ------------------------------------------------------------ prediction
    def _thresholds(self):
        return self._check_thresholds(self._n_outputs)

    def _check_thresholds(self, n_labels):
        """``threshold`` as a float64 array (a scalar, or one value per label), or a ValueError."""
        threshold = np.asarray(self.threshold)
        if threshold.dtype.kind not in "biuf":
            raise ValueError(f"threshold must hold numbers; got {self.threshold!r}.")
        threshold = threshold.astype(np.float64)
        if threshold.ndim > 1 or (threshold.ndim == 1 and threshold.shape != (n_labels,)):
            raise ValueError(
                f"threshold must be a float or hold one value per label ({n_labels}); got shape {threshold.shape}."
            )
        if not np.all((threshold > 0) & (threshold < 1)):  # NaN included
            raise ValueError(f"threshold values must lie strictly between 0 and 1; got {self.threshold!r}.")
        return threshold

    def predict(self, X):
        """Predicted labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_labels) or (n_samples,)
            For indicator targets, 1 where a label's probability exceeds its
            ``threshold`` (same dtype as the training ``Y``); for 1-D targets, the most
            probable class.
        """
        return super().predict(X)

    def _labels(self, logits):
        if self._kind != "multilabel":
            return super()._labels(logits)
        return indicator_labels(logits, self._thresholds(), self._y_dtype)

    def _check_label_settings(self):
        if self._kind != "multilabel":
            self._check_one_d_targets(fitting=False)  # set_params(threshold=...) after fit would be ignored

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class _WrittenBack(list):
    """The linear model's ``coefs_`` / ``intercepts_``: a list made on each access, whose item assignment is
    written back to ``coef_`` / ``intercept_`` (``model.coefs_[0] = W`` changes predictions, as it does for a
    model with hidden layers, whose lists are stored, and for ``MLPClassifier``)."""

    def __init__(self, items, owner, name):
        super().__init__(items)
        self._owner, self._name = owner, name

    def __setitem__(self, index, value):
        super().__setitem__(index, value)
        setattr(self._owner, self._name, list(self))


# Shown by its kind, as MLPClassifier's lists are: scikit-learn's HTML repr prints type(value).__name__ for every
# fitted attribute, and the private name told the user nothing (pickle finds the class by __qualname__).
_WrittenBack.__name__ = "list"


def _one_layer(value, name):
    """The one layer a linear model's ``coefs_`` / ``intercepts_`` holds, or a ValueError in those terms."""
    value = list(value)
    if len(value) != 1:
        raise ValueError(
            f"This model is linear (no hidden layers): {name} holds one layer, and {len(value)} were assigned. "
            "Set hidden_layer_sizes and fit to train hidden layers."
        )
    return value


def _nullable_label_dtype(Y):
    """The NumPy dtype of a DataFrame (or Series) of pandas nullable columns of one kind ("Int64", "boolean"), which
    validation turns into float64; None for anything else."""
    dtypes = getattr(Y, "dtypes", None)
    if dtypes is None:
        return None
    dtypes = [dtypes] if not hasattr(dtypes, "__iter__") else list(dtypes)
    found = {getattr(dtype, "numpy_dtype", None) for dtype in dtypes if hasattr(dtype, "na_value")}
    if len(found) != 1 or len(dtypes) == 0 or not all(hasattr(dtype, "na_value") for dtype in dtypes):
        return None
    dtype = found.pop()
    return dtype if dtype is not None and np.dtype(dtype).kind in "biu" else None


def _check_label_lists(Y):
    """Refuse lists of label sets (``[[1, 3], [2]]``, ``[{"a"}, ...]``) in words that point to the remedy.

    NumPy's "inhomogeneous shape" and scikit-learn's "Unknown label type: unknown" were what a user
    got for the form multi-label targets most often come in (``MLPClassifier`` says the same).
    """
    if not isinstance(Y, (list, tuple)) or not Y:
        return
    rows = [row for row in Y if isinstance(row, (list, tuple, set, frozenset, np.ndarray))]
    if not rows:
        return
    ragged = len({len(row) for row in rows}) > 1 or len(rows) < len(Y)
    if ragged or any(isinstance(row, (set, frozenset)) for row in rows):
        raise ValueError(
            "Y looks like lists (or sets) of labels per sample; TorchMultiLabelClassifier takes a 0/1 indicator "
            "matrix of shape (n_samples, n_labels). Build one with "
            "sklearn.preprocessing.MultiLabelBinarizer().fit_transform(Y)."
        )
