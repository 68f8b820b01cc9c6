"""TorchLogisticClassifier: scikit-learn's logistic regression, trained by PyTorch through skorch."""

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight

from ._base import BaseTorchClassifier, encode_labels
from ._docstrings import fill_doc
from ._modules import LinearLogits, linear_coefficients


@fill_doc(max_iter=100, learning_rate_init=0.01)
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
    solver : {"lbfgs", "adam", "sgd"}, default="lbfgs"
        "lbfgs": full-batch L-BFGS (``torch.optim.LBFGS``, strong-Wolfe line search,
        history 10), one skorch epoch per iteration, stopping on ``tol`` like
        scikit-learn's. "adam" / "sgd": mini-batch stochastic optimisation, shuffled by
        ``random_state``; use them when the data is too large for full-batch steps.
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
        Number of L-BFGS iterations, or epochs for "adam" / "sgd".
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

    def _targets(self, y, sample_weight):
        targets = encode_labels(y)
        if self.class_weight is not None:
            class_weight = compute_class_weight(
                self.class_weight, classes=targets.classes, y=y, sample_weight=sample_weight
            )
            targets.row_factor = class_weight[targets.target]
            if not np.any((sample_weight > 0) & (targets.row_factor > 0)):
                raise ValueError("The sample weights times the class weights are all zero.")
        return targets

    def _class_weight_rows(self, y, position, sample_weight):
        if self.class_weight is None:
            return np.ones(len(y))
        return compute_class_weight(self.class_weight, classes=self.classes_, y=y, sample_weight=sample_weight)[
            position
        ]

    def _module(self, n_features, n_outputs):
        return LinearLogits, dict(n_features=n_features, n_outputs=n_outputs, bias=self.fit_intercept)

    def _set_model_attributes(self):
        self.coef_, self.intercept_ = linear_coefficients(self.net_.module_, self._n_outputs)
