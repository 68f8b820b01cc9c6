"""TorchLogisticClassifier: scikit-learn's logistic regression, trained by PyTorch through skorch."""

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if

from ._base import BaseTorchClassifier
from ._dask import dask_label_targets
from ._data import host_array, host_classes
from ._docstrings import fill_doc
from ._modules import LinearLogits
from ._targets import class_weights, encode_labels, encode_partial_labels, per_row


@fill_doc(methods="logistic", max_iter=100, learning_rate_init=0.01)
class TorchLogisticClassifier(BaseTorchClassifier):
    """Logistic regression with scikit-learn's objective, trained with PyTorch through skorch.

    Binary targets get one logit and a sigmoid; more classes get one logit per class
    and a softmax (multinomial loss). The objective is exactly that of
    :class:`sklearn.linear_model.LogisticRegression`: the weighted mean log-loss plus
    ``||W||^2 / (2 C S)``, ``S`` the sum of sample weights (times class weights), the
    intercept unpenalised, starting from zero. On the same data and settings both reach
    the same optimum.

    Parameters
    ----------
    ${C}
    ${l1_ratio}
    ${fit_intercept}
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight`` as in scikit-learn.
        "balanced" uses ``n_samples / (n_classes * np.bincount(y))``, with counts
        weighted by ``sample_weight``.
    solver : {"lbfgs", "newton-cholesky", "adam", "sgd"}, default="lbfgs"
        "lbfgs": full-batch L-BFGS of our own (``torchlogit._solvers.LBFGS``: the
        history size 10, curvature test and ``maxls=50`` of SciPy's L-BFGS-B, which
        scikit-learn uses, with a strong-Wolfe line search; OWL-QN with an L1 part),
        one skorch epoch per iteration, stopping by scikit-learn's rules (see ``tol``).
        "newton-cholesky": scikit-learn's Newton-Cholesky solver (Hessian, Cholesky
        solve in float64, backtracking line search, its stopping rule; L2 penalty
        only); a few iterations to a tight optimum, each costing ``n (K (d + 1))^2``
        operations, so a good choice for many samples and few features (the Hessian
        is refused beyond 2 GiB). "adam" / "sgd": mini-batch stochastic optimisation
        (``torch.optim.Adam`` / ``torch.optim.SGD``), shuffled by ``random_state``; use
        them when the data is too large for full-batch steps.
    ${max_iter}
    ${tol}
    ${learning_rate_init}
    ${batch_size}
    ${momentum}
    ${n_iter_no_change}
    ${warm_start}
    ${device}
    ${dtype}
    ${random_state}
    ${verbose}
    ${callbacks}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients; one row for binary problems (the positive class is ``classes_[1]``).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (zeros when ``fit_intercept=False``).
    n_iter_ : ndarray of shape (1,)
        Number of L-BFGS or Newton iterations, or epochs for "adam" / "sgd". 0 where the
        start already meets ``tol`` (a warm start at its optimum; a cold L2 fit whose
        gradient at zero is below ``tol``), as scikit-learn's L-BFGS-B reports; a cold fit
        with an L1 part takes its first step there and counts it (1), as ``saga`` does. After
        ``partial_fit``: the epochs of every call so far (one per call, continuing a
        mini-batch ``fit`` before them), where ``SGDClassifier`` counts the last call's.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` had string column names.
    ${fitted_net}

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The reference implementation.
    TorchMultiLabelClassifier : Several independent binary labels per sample.

    Notes
    -----
    Training data is moved to the device once, as one tensor (a CSR tensor for scipy
    sparse input, which is never densified); it never goes through skorch's per-row
    ``Dataset``. Before that, identical rows are merged (their weights summed),
    zero-weight rows dropped and rows put in a canonical order, so that a fit does not
    depend on row order and ``sample_weight=k`` is exactly ``k`` repeated rows.

    A failed ``fit`` leaves an already fitted estimator exactly as it was.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from torchlogit import TorchLogisticClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), TorchLogisticClassifier(C=1.0)).fit(X, y)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    >>> round(clf.score(X, y), 2)
    0.99
    """

    _tensor_target_ndims = (1,)  # labels, encoded where the data lives (torch.unique)
    _centred_multinomial = True  # LogisticRegression's multinomial intercepts have mean zero (see CentredIntercepts)

    _parameter_constraints: dict = {
        **BaseTorchClassifier._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        C=1.0,
        *,
        l1_ratio=0.0,
        fit_intercept=True,
        class_weight=None,
        solver="lbfgs",
        max_iter=100,
        tol=1e-4,
        learning_rate_init=0.01,
        batch_size="auto",
        momentum=0.9,
        n_iter_no_change=10,
        warm_start=False,
        device="cpu",
        dtype="float32",
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.momentum = momentum
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
        y : array-like of shape (n_samples,)
            Class labels (numbers or strings), at least two distinct ones.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; multiplied by the class weights.

        Returns
        -------
        self : TorchLogisticClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    @available_if(BaseTorchClassifier._check_partial_fit)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of the mini-batch solver ("adam" or "sgd") over ``(X, y)``.

        Calls continue from the previous ones (parameters and optimizer state), as
        :class:`~sklearn.linear_model.SGDClassifier`'s do; after ``fit`` the first call
        continues the fit (with "adam" or "sgd": its optimizer moments and epoch count too,
        as MLPClassifier's; after "lbfgs", its parameters). This is what
        ``dask_ml.wrappers.Incremental`` calls on each block of a dask array.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data; the same features on every call.
        y : array-like of shape (n_samples,)
            Its labels, all in ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever appear. Required on the first call (when the
            estimator is not fitted yet); optional afterwards, and then it must not change.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of this batch's samples, multiplied by ``class_weight`` (a dict;
            "balanced" needs all the data at once and is refused, as in SGDClassifier).

        Returns
        -------
        self : TorchLogisticClassifier
            The updated estimator.

        Notes
        -----
        Each call minimises the objective of a fit on that batch alone: the penalty is
        scaled by the batch's weight sum ``S_b``, ``||W||^2 / (2 C S_b)``. Over ``k``
        batches of equal weight this is ``k`` times the penalty ``fit`` puts on all of
        them together; pass ``C`` times ``k`` for the same regularisation. Neither
        ``max_iter`` nor ``tol`` applies: you decide when to stop. Setting
        ``fit_intercept=False`` between calls on a model whose intercept is not zero is
        refused (the call would drop what was learned; ``SGDClassifier`` keeps it). A batch
        to which ``class_weight`` gives no weight (its rows all of classes weighted 0)
        leaves a fitted model as it was; as a first call it is refused.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.preprocessing import StandardScaler
        >>> from torchlogit import TorchLogisticClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> X = StandardScaler().fit_transform(X)
        >>> clf = TorchLogisticClassifier(solver="adam", learning_rate_init=0.05, random_state=0)
        >>> order = np.random.RandomState(0).permutation(len(y))
        >>> for epoch in range(20):
        ...     for batch in np.array_split(order, 5):
        ...         clf = clf.partial_fit(X[batch], y[batch], classes=[0, 1, 2])
        >>> round(clf.score(X, y), 2)
        0.96
        """
        return self._partial_fit(X, y, classes, sample_weight)

    def _complete_assigned_model(self):
        """A model from arrays assigned to an unfitted estimator (``coef_``, ``intercept_``, ``classes_``: averaged
        or federated coefficients, another tool's), which ``LogisticRegression`` predicts with: binary for two
        classes (one row of coefficients), multinomial otherwise; without ``classes_``, the rows of ``coef_`` say.

        Derived afresh at each use until a fit or a load (which record ``n_iter_``) fixes them: another model
        assigned later is read as it is, as ``LogisticRegression`` reads it."""
        if "n_iter_" in vars(self) or "coef_" not in vars(self):
            return
        if hasattr(self, "classes_"):
            n_classes = len(host_classes(self))
        else:
            coef = self.coef_
            n_classes = coef.shape[0] if getattr(coef, "ndim", np.ndim(coef)) == 2 and coef.shape[0] > 1 else 2
        self._kind = "binary" if n_classes == 2 else "multinomial"
        self._n_outputs = 1 if n_classes == 2 else n_classes
        self.n_features_in_ = np.shape(self.coef_)[-1]  # for save, to_onnx, summary and warm start, which check it

    def _partial_targets(self, y, classes, sample_weight):
        if isinstance(self.class_weight, str):
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit: it needs the class counts of all "
                "the data. Compute them with sklearn.utils.class_weight.compute_class_weight and pass a dict."
            )
        targets = encode_partial_labels(self, y, classes)
        if self.class_weight is not None:
            class_weight = class_weights(self.class_weight, classes=targets.classes, y=host_array(y, name="y"))
            targets.row_factor = per_row(class_weight, targets.target)
        return targets

    def _dask_targets(self, y, sample_weight):
        return dask_label_targets(y, sample_weight, self.class_weight)

    def _targets(self, y, sample_weight):
        targets = encode_labels(y)
        if self.class_weight is not None:
            # scikit-learn's own computation, on the host (labels of a tensor fit are copied once).
            class_weight = class_weights(
                self.class_weight,
                classes=targets.classes,
                y=host_array(y, name="y"),
                sample_weight=host_array(sample_weight, name="sample_weight"),
            )
            targets.row_factor = per_row(class_weight, targets.target)
            if not bool(((sample_weight > 0) & (targets.row_factor > 0)).any()):
                raise ValueError("The sample weights times the class weights are all zero.")
        return targets

    def _class_weight_rows(self, y, position, sample_weight):
        if self.class_weight is None:
            return np.ones(len(y))
        return class_weights(self.class_weight, classes=host_classes(self), y=y, sample_weight=sample_weight)[position]

    def _check_loaded_params(self):
        super()._check_loaded_params()
        if isinstance(self.class_weight, dict):  # "balanced" needs the training labels, which a file lacks
            classes = host_classes(self)
            class_weights(self.class_weight, classes=classes, y=classes)

    def _module(self, n_features, n_outputs):
        return LinearLogits, dict(n_features=n_features, n_outputs=n_outputs, bias=self.fit_intercept)

    def _publish(self, net, targets, *, incremental, X_dtype=np.float64, previous=(), start=None):
        super()._publish(net, targets, incremental=incremental, X_dtype=X_dtype, previous=previous, start=start)
        # The multinomial intercepts are unpenalised: adding one constant to all changes no probability,
        # and only their differences are identified. L-BFGS keeps their sum where it started (its steps are
        # combinations of gradients, whose intercept parts sum to zero), as scikit-learn's solvers do;
        # OWL-QN's orthant projection of the step (an L1 part) does not, and the sum drifted (4.5 on iris
        # at C=1, l1_ratio=1). Centred after fit on the starting mean (zero, or a warm start's: intercepts
        # assigned as [1, 2, 3] keep their sum 6, as scikit-learn's saga keeps it), the reported intercepts
        # are scikit-learn's.
        if (
            not incremental
            and self._kind == "multinomial"
            and self.fit_intercept
            and self.l1_ratio > 0
            and np.isfinite(self.C)
        ):
            shift = self.intercept_.mean(dtype=np.float64)
            if start is not None and "linear.bias" in start:
                shift -= float(start["linear.bias"].double().mean())
            self.intercept_ = self.intercept_ - shift.astype(self.intercept_.dtype)
        if not incremental and self._kind == "multinomial" and self._solver() == "newton-cholesky":
            # scikit-learn's NewtonCholeskySolver.finalize: the symmetric parametrisation (intercepts, and without a
            # penalty the coefficients, summing to zero over the classes), however the iterations ended. Newton's
            # steps keep it; its L-BFGS fall-back (a singular Hessian) kept a warm start's offsets: intercepts
            # assigned as [1, 2, 3] ended summing to 6, a coefficient column to 0.41 (probabilities the same).
            if not np.isfinite(self.C):
                self.coef_ = self.coef_ - self.coef_.mean(axis=0, dtype=np.float64).astype(self.coef_.dtype)
            if self.fit_intercept:
                self.intercept_ = self.intercept_ - self.intercept_.mean(dtype=np.float64).astype(self.intercept_.dtype)
