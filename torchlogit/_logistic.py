"""TorchLogisticClassifier: scikit-learn's logistic regression, trained by PyTorch through skorch."""

import numpy as np
from scipy.special import expit, log_softmax, softmax
from sklearn.base import _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data

from ._base import BaseTorchClassifier, fitted_n_iter, keep_state_on_failure
from ._docstrings import fill_doc
from ._modules import LinearLogits


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
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` had string column names.
    ${fitted_net}

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The reference implementation.
    TorchMultiLabelClassifier : Several independent binary labels per sample.

    Notes
    -----
    A failed ``fit`` leaves an already fitted estimator exactly as it was. Training
    data is moved to the device once, as one tensor; it never goes through skorch's
    per-row ``Dataset``.

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
        X : array-like of shape (n_samples, n_features)
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
        with keep_state_on_failure(self):
            device, dtype = self._check_solver_options()
            X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
            check_classification_targets(y)
            classes, y_encoded = np.unique(y, return_inverse=True)
            if len(classes) < 2:
                raise ValueError(
                    "This solver needs samples of at least 2 classes in the data, but the "
                    f"data contains only one class: {classes[0]!r}"
                )
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
            row_factor = None
            if self.class_weight is not None:
                class_weight = compute_class_weight(
                    self.class_weight, classes=classes, y=y, sample_weight=sample_weight
                )
                row_factor = class_weight[y_encoded]
                if not np.any((sample_weight > 0) & (row_factor > 0)):
                    raise ValueError("The sample weights times the class weights are all zero.")
            binary = len(classes) == 2
            init_state = self._warm_start_state(classes, X.shape[1])
            self.net_ = self._train(
                X,
                y_encoded,
                sample_weight,
                kind="binary" if binary else "multinomial",
                module=LinearLogits,
                module_kwargs=dict(
                    n_features=X.shape[1], n_outputs=1 if binary else len(classes), bias=self.fit_intercept
                ),
                device=device,
                dtype=dtype,
                row_factor=row_factor,
                init_state=init_state,
            )
            self.classes_ = classes
            self._n_outputs = 1 if binary else len(classes)
            linear = self.net_.module_.linear
            self.coef_ = linear.weight.detach().cpu().numpy().copy()
            self.intercept_ = (
                linear.bias.detach().cpu().numpy().copy()
                if self.fit_intercept
                else np.zeros(self._n_outputs, dtype=self.coef_.dtype)
            )
            self.n_iter_ = fitted_n_iter(self.net_)
        return self

    def _warm_start_state(self, classes, n_features):
        if not (self.warm_start and hasattr(self, "net_")):
            return None
        if not np.array_equal(classes, self.classes_):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in the "
                f"previous call to fit. Previously got {self.classes_}, `y` has {classes}."
            )
        if n_features != self.n_features_in_:
            raise ValueError(
                f"warm_start needs the same features as the previous fit: it had "
                f"{self.n_features_in_}, X has {n_features}."
            )
        state = self.net_.module_.state_dict()
        if self.fit_intercept != ("linear.bias" in state):
            return None
        return state

    def decision_function(self, X):
        """Logits: shape (n_samples,) for binary problems, (n_samples, n_classes) otherwise.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For binary problems, positive means ``classes_[1]``.
        """
        logits = self._logits(X)
        return logits[:, 0] if logits.shape[1] == 1 else logits

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``; rows sum to one.
        """
        logits = self._logits(X)
        if logits.shape[1] == 1:
            p = expit(logits[:, 0])
            return np.column_stack([1 - p, p])
        return softmax(logits, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably from the logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        logits = self._logits(X)
        if logits.shape[1] == 1:
            z = np.column_stack([np.zeros(len(logits)), logits[:, 0]])
            return log_softmax(z, axis=1)
        return log_softmax(logits, axis=1)

    def predict(self, X):
        """Most probable class of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        logits = self._logits(X)
        index = (logits[:, 0] > 0).astype(int) if logits.shape[1] == 1 else logits.argmax(axis=1)
        return self.classes_[index]
