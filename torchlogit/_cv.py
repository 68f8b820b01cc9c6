"""TorchLogisticClassifierCV: scikit-learn's LogisticRegressionCV from one batched solve.

Every (fold, l1_ratio, C) problem is solved in one batch by
:func:`torchlogit._batched.batched_lbfgs`: the folds are columns of row weights over the
one copy of ``X`` on the device, so an objective evaluation of all problems is two
matrix-matrix products. The held-out scores come from the path's coefficients (one
product per fold for all of its Cs) through the scorer, as scikit-learn's do; the best
(C, l1_ratio) is then refitted on all the data by :class:`TorchLogisticClassifier`,
warm-started from the mean of the folds' coefficients.

Speed: benchmarks/cv.py (and the ``cv`` / ``cv_digits`` sections of benchmarks/run.py)
times this against LogisticRegressionCV(n_jobs=1) side by side, with the chosen C of
both, the largest ``scores_`` difference and the peak memory of the fit; the figures
and the batch/path orders measured are in :mod:`torchlogit._batched` and
benchmarks/cv_results.md. The held-out ``neg_log_loss`` (the default scoring) is
computed for all Cs of a fold at once (:func:`_log_loss`, scikit-learn's formula):
through the scorer, its per-call input validation took 0.3 s of a 0.95 s fit
(40k x 60, 50 problems, CPU time); any other scoring goes through the scorer.

Input validation (``X``, ``y``, ``sample_weight``, the folds) happens in :meth:`fit`
before anything else, in one block, so that the data layer's call can replace it; the
solver takes NumPy, SciPy sparse or torch data (:func:`torchlogit._batched.design_matrix`).
"""

import inspect
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn import get_config
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import get_scorer, get_scorer_names, make_scorer
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metadata_routing import (
    UNUSED,
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import _check_method_params, check_is_fitted, validate_data

from ._base import ratio_penalty_name
from ._batched import BatchedLogistic, batched_lbfgs, chunks
from ._callbacks import _iteration_limit_message, ftol_for, lbfgs_warning
from ._compat import _check_sample_weight, cv_score_convention, refuse_non_finite
from ._data import check_sparse_indices, follow_labels, host_array, host_inputs, origin_of
from ._devices import DTYPES, refuse_mps_training, resolve_device, without_autocast
from ._docstrings import DOC_LINK_TEMPLATE
from ._kernels import ACCEPT_SPARSE
from ._logistic import TorchLogisticClassifier
from ._objective import check_weight_scale
from ._persistence import check_unpickled
from ._persistence import load as load_model
from ._persistence import save as save_model
from ._rows import canonical_rows
from ._state import keep_state_on_failure
from ._targets import class_weights, encode_labels
from ._threads import data_values, threads_for
from ._user_warnings import warn


def _held_out_logits(X, W):
    """``X @ W.T`` in float64 (one column per problem and output).

    Dense ``X`` is multiplied by torch, so that the product follows the fit's thread rule
    (:mod:`torchlogit._threads`): NumPy's OpenBLAS uses every core for it, and on a busy
    2-core machine its 360 x 64 by 64 x 500 product of a digits fold took 10-30 ms against
    1.4 ms on one thread. ``W @ X.T`` rather than ``X @ W.T``: MKL is several times faster
    when the result's rows, not its columns, are the short side (see
    :func:`torchlogit._objective.linear_objective_and_gradient`).
    """
    if sp.issparse(X):
        return np.asarray(X @ W.T, dtype=np.float64)
    X = torch.from_numpy(np.asarray(X, dtype=np.float64))
    return (torch.from_numpy(np.ascontiguousarray(W)) @ X.T).T.numpy()


class _PathModel(LogisticRegression):
    """One point of the path as the fitted ``LogisticRegression`` that ``LogisticRegressionCV``'s scorer gets.

    Its parameters are the point's (``C``, ``l1_ratio``, ``fit_intercept``, ``class_weight``, ``tol``,
    ``max_iter``), its fitted attributes the point's arrays, so that a custom scorer may read ``est.C`` or
    ``coef_`` (to penalise large or many coefficients), ``get_params()``, or ``clone`` and refit it, as it would
    scikit-learn's. The held-out logits are computed once per fold for all of its Cs; the scorer gets them back
    when it asks about that fold's ``X`` (any other ``X`` is computed).
    """

    @classmethod
    def at(cls, params, classes, coef, intercept, X_test=None, logits=None):
        model = cls(**params)
        model.classes_ = classes
        model.coef_ = coef
        model.intercept_ = intercept
        model.n_features_in_ = coef.shape[1]
        model._X_test, model._logits = X_test, logits
        return model

    def _z(self, X):
        if X is getattr(self, "_X_test", None) and self._logits is not None:
            return self._logits
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def decision_function(self, X):
        z = self._z(X)
        return z[:, 0] if z.shape[1] == 1 else z

    def predict_proba(self, X):
        return _proba(self._z(X))

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))

    def predict(self, X):
        z = self._z(X)
        index = (z[:, 0] > 0).astype(int) if z.shape[1] == 1 else z.argmax(axis=1)
        return self.classes_[index]


def _folds(splits, n_samples):
    """The (train, test) row indices of every fold; boolean masks (which scikit-learn's indexing takes) become
    indices. An empty split (an exhausted generator, ``cv=[]``) is refused in words, and so is a mask of another
    length than ``X`` (one of 150 for 178 rows left 28 rows out of every fold without a word; scikit-learn's
    indexing raises NumPy's IndexError)."""
    folds = []
    for k, fold in enumerate(splits):
        parts = []
        for part in fold:
            part = np.asarray(part)
            if part.dtype == bool:
                if part.ndim == 1 and len(part) != n_samples:
                    raise ValueError(
                        f"cv split {k} holds a boolean mask of {len(part)} entries for X's {n_samples} rows: masks "
                        "must have one entry per row."
                    )
                part = np.flatnonzero(part)
            parts.append(part)
        folds.append(tuple(parts))
    if not folds:
        raise ValueError(
            "cv gave no (train, test) splits: an empty iterable, or a generator already used by an earlier fit "
            "(pass a list of splits, or a splitter such as StratifiedKFold, to fit more than once)."
        )
    for train, test in folds:
        if train.ndim != 1 or test.ndim != 1 or len(train) == 0 and len(test) == 0:
            raise ValueError("Each cv split must be a pair of 1-D arrays of row indices or boolean masks.")
    return folds


def _check_test_rows(k, test, sample_weight):
    """Refuse, before any training, a fold whose held-out rows cannot score a C: none, or zero total weight."""
    if len(test) == 0:
        raise ValueError(f"Fold {k} of cv has no test rows: each fold's held-out rows score every C.")
    if sample_weight is not None and not np.any(sample_weight[test] != 0):
        raise ValueError(
            f"The test rows of fold {k} have zero total sample weight: a weighted score of them is undefined."
        )


def _largest_merged_weight(X, targets, row_weight, dtype):
    """The largest weight of a row of the refit's training set, where identical rows (value and label) are one row
    of their summed weight; the rows are merged only where the weights' total leaves ``dtype``'s range (below it no
    sum of weights can)."""
    if row_weight.sum() <= torch.finfo(dtype).max:
        return row_weight.max()
    return canonical_rows(X, targets.target, row_weight)[1].max()


def _warn_missing_classes(folds, encoded, row_weight, classes):
    """Warn of folds whose training rows of positive weight lack a class (called with an unpenalised intercept).

    Such a fold's problems have no optimum: the intercept grows without bound toward the classes
    present, each solver stops wherever its rule meets the flat objective, and the fold's held-out
    scores, and so the chosen C, are arbitrary (``KFold`` on data sorted by label). scikit-learn's
    LogisticRegressionCV does not warn.
    """
    # Only classes the data hold (with positive weight): a class that a class_weight of 0 leaves out of every fold is
    # not the split's doing, and a stratified splitter would not bring it back.
    held = np.bincount(encoded[row_weight > 0], minlength=len(classes)) > 0
    lacking = {}
    for k, (train, _) in enumerate(folds):
        counted = train[row_weight[train] > 0]
        present = np.bincount(encoded[counted], minlength=len(classes)) > 0
        if not present[held].all():
            lacking[k] = classes[held & ~present]
    if not lacking:
        return
    first, missing = next(iter(lacking.items()))
    names = ", ".join(repr(label.item() if hasattr(label, "item") else label) for label in missing)
    others = f" ({len(lacking)} of the {len(folds)} folds lack a class: {', '.join(map(str, lacking))})"
    others = others if len(lacking) > 1 else ""
    noun = "class" if len(missing) == 1 else "classes"
    warn(
        f"The training rows of fold {first} of cv hold no sample of {noun} {names}{others}. With an unpenalised "
        "intercept such a fold's fits have no optimum: the intercept grows without bound, each fit stops where "
        "the solver gives up, and the scores the fold gives each C (and so the C chosen) are arbitrary. A "
        "stratified splitter (StratifiedKFold, what an integer cv gives a classifier) keeps every class in "
        "every fold.",
        UserWarning,
    )


def _proba(z):
    from scipy.special import expit, softmax

    if z.shape[1] == 1:
        p = expit(z[:, 0])
        return np.column_stack([1 - p, p])
    return softmax(z, axis=1)


def _log_loss(logits, target, sample_weight):
    """:func:`sklearn.metrics.log_loss` of every model at once: ``logits`` (n, ...models, K), ``target`` (n,) indices.

    The probabilities are :class:`_PathModel`'s (``1 - expit(z)`` for the first of two
    classes), clipped to ``[eps, 1 - eps]`` as scikit-learn does, then averaged over rows
    with ``sample_weight``. Returns shape ``logits.shape[1:-1]``.
    """
    from scipy.special import expit, softmax

    if logits.shape[-1] == 1:
        p = expit(logits[..., 0])
        positive = (target == 1).reshape(-1, *[1] * (p.ndim - 1))
        p_true = np.where(positive, p, 1 - p)
    else:
        p = softmax(logits, axis=-1)
        index = target.reshape(-1, *[1] * (p.ndim - 1))
        p_true = np.take_along_axis(p, index, axis=-1)[..., 0]
    eps = np.finfo(np.float64).eps
    loss = -np.log(np.clip(p_true, eps, 1 - eps))
    return np.average(loss, axis=0, weights=sample_weight)


def _fold_scorer(scorer, classes):
    """``scorer`` for a fold: metrics that take ``labels`` get all the classes.

    A held-out fold may lack a class; LogisticRegressionCV rebuilds such scorers with
    ``labels=classes`` (and ``pos_label`` for binary problems), and so do we.
    """
    parameters = inspect.signature(scorer._score_func).parameters if hasattr(scorer, "_score_func") else []
    if "labels" not in parameters:
        return scorer
    # The scorer's own arguments first: an averaged one ("f1_macro") already says pos_label=None, and a second
    # pos_label made make_scorer fail on every binary problem (scikit-learn 1.9's own LogisticRegressionCV too:
    # scikit-learn issue #34531).
    kwargs = dict(getattr(scorer, "_kwargs", {}))
    kwargs.setdefault("labels", classes)
    if len(classes) <= 2 and "pos_label" in parameters:
        kwargs.setdefault("pos_label", classes[-1])
    return make_scorer(
        scorer._score_func, greater_is_better=scorer._sign == 1, response_method=scorer._response_method, **kwargs
    )


class TorchLogisticClassifierCV(ClassifierMixin, BaseEstimator):
    """Logistic regression with C (and l1_ratio) chosen by cross-validation, all folds x Cs in one batch.

    The counterpart of :class:`sklearn.linear_model.LogisticRegressionCV` (its 1.9 API
    with the defaults it is moving to: ``scoring="neg_log_loss"``, ``l1_ratios=(0.0,)``
    and the non-legacy attributes). Every fold x l1_ratio x C problem is one slice of
    a single stacked optimisation (batched L-BFGS, OWL-QN for an L1 part) over one copy
    of ``X``; each problem keeps its own rows, penalty and convergence.

    Parameters
    ----------
    Cs : int or array-like of float, default=10
        Values of C to try. An int ``n`` means ``np.logspace(-4, 4, n)``.
    l1_ratios : array-like of float in [0, 1], default=(0.0,)
        Elastic-net mixings to try (0 is L2, 1 is L1).
    fit_intercept : bool, default=True
        Whether to learn an (unpenalised) intercept.
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn: None is 5-fold, an int ``k`` is ``k`` folds, stratified for
        classifiers (:class:`~sklearn.model_selection.StratifiedKFold`).
    scoring : str, callable or None, default="neg_log_loss"
        Scorer of the held-out folds (any scikit-learn scorer name, or a callable
        ``scorer(estimator, X, y)``); None is accuracy. Also used by :meth:`score`.
    refit : bool, default=True
        Refit on all the data with the (C, l1_ratio) of best mean score, warm-started
        from the mean of the folds' coefficients there. Otherwise ``coef_`` is the mean
        over folds of each fold's best coefficients, and ``C_`` / ``l1_ratio_`` the
        means of each fold's best values (as in scikit-learn).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``; "balanced" is
        computed once on all of ``y``, as in scikit-learn.
    tol : float, default=1e-4
        Each problem stops when its largest absolute (pseudo-)gradient entry is at most
        ``tol`` (scikit-learn's ``gtol``), or when its objective stops decreasing (a
        relative decrease of at most ``64 eps`` of float64, as scikit-learn's L-BFGS-B).
        With ``dtype="float32"`` a problem whose objective stops decreasing above
        ``tol`` (float32's rounding hides further progress) goes on in float64 from
        where it stopped, as :class:`TorchLogisticClassifier` does; its iterations in
        both precisions count towards ``max_iter`` and ``n_iter_``.
    max_iter : int, default=100
        Maximum L-BFGS iterations of each problem (and of the refit). Every problem
        starts from zero, where LogisticRegressionCV warm-starts each C from the
        previous one: weakly regularised problems (large C, nearly separable data)
        can need more iterations than there (standardised breast cancer, C=1e4, at the
        defaults: 34 to 72 per fold, against LogisticRegressionCV's 0 on the three folds
        whose warm start already meets ``tol`` and 30 and 87 on the other two), and on
        harder data a larger ``max_iter``. Paths with an L1 part (``l1_ratios`` above 0) can take
        more than the default on small multiclass data (standardised iris at C=10,
        ``l1_ratios=[1]``: 77 to 142 per fold in float32, 71 to 163 in float64, measured
        2026-12-07; three of the five folds stop at 100), warned about at the default; with ``refit=False``,
        whose ``coef_`` averages the folds' path coefficients, such a stop shows (3.6-6.4%
        from converged saga, against 3.5e-6 at ``max_iter=5000``). At least 1: ``LogisticRegressionCV(max_iter=0)``
        is accepted there (its warm-started path still moves), but a path of unfitted
        problems would choose C among the starting points.
    device : str or torch.device, default="cpu"
        Where to train: "cpu", "cuda", "cuda:N" or "auto" ("mps" is refused: see TorchLogisticClassifier).
    dtype : {"float32", "float64"}, default="float32"
        Precision of the computation; sums are accumulated in float64 either way.
        Use "float64" for agreement with scikit-learn to many digits.
    random_state : int, RandomState instance or None, default=None
        Passed to the refit estimator (L-BFGS draws no random numbers). The folds are
        the splitter's: pass a splitter with its own ``random_state`` to shuffle them.
    verbose : int, default=0
        Print how many problems converged at each iteration.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients of the refitted (or fold-averaged) model.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Its intercepts.
    Cs_ : ndarray of shape (n_cs,)
        The values of C tried.
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
        The values of l1_ratio tried.
    C_ : float
        The chosen C.
    l1_ratio_ : float
        The chosen l1_ratio.
    scores_ : ndarray of shape (n_folds, n_l1_ratios, n_cs)
        Held-out score of each fold, l1_ratio and C.
    coefs_paths_ : ndarray of shape (n_folds, n_l1_ratios, n_cs, n_outputs, n_dof)
        Coefficients of each fold, l1_ratio and C; the last column is the intercept
        when ``fit_intercept`` (``n_dof = n_features + 1``); ``n_outputs`` is 1 for
        binary problems.
    n_iter_ : ndarray of shape (n_folds, n_l1_ratios, n_cs)
        L-BFGS iterations of each problem.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` had string column names.

    See Also
    --------
    sklearn.linear_model.LogisticRegressionCV : The reference implementation.
    TorchLogisticClassifier : One fit at a given C.

    Notes
    -----
    The best (C, l1_ratio) maximises the sum of the folds' scores; ties go to the
    first C in ``Cs_``, then the first l1_ratio, as in scikit-learn. The objective of
    each problem is :class:`TorchLogisticClassifier`'s, with the weight sum ``S`` of the
    fold's training rows. Rows identical in value, label and fold membership are merged
    (weights summed) before the solve, so that ``sample_weight=k`` is exactly ``k``
    repeated rows.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from torchlogit import TorchLogisticClassifierCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), TorchLogisticClassifierCV(Cs=8, dtype="float64")).fit(X, y)
    >>> cv = clf[-1]
    >>> cv.scores_.shape
    (5, 1, 8)
    >>> round(float(cv.C_), 6)
    0.26827
    >>> round(clf.score(X, y), 2)
    -0.07
    """

    # As LogisticRegressionCV's: score's sample_weight goes to the scorer (routed as fit's are), the estimator
    # itself requests nothing, so GridSearchCV/cross_validate need no set_score_request on it.
    __metadata_request__score = {"sample_weight": UNUSED}

    _doc_link_module = "torchlogit"  # scikit-learn's HTML repr links the class to its API page
    _doc_link_template = DOC_LINK_TEMPLATE

    _parameter_constraints: dict = {
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "l1_ratios": ["array-like"],
        "fit_intercept": ["boolean"],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "refit": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "dtype": [StrOptions(set(DTYPES))],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        Cs=10,
        l1_ratios=(0.0,),
        fit_intercept=True,
        cv=None,
        scoring="neg_log_loss",
        refit=True,
        class_weight=None,
        tol=1e-4,
        max_iter=100,
        device="cpu",
        dtype="float32",
        random_state=None,
        verbose=0,
    ):
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.class_weight = class_weight
        self.tol = tol
        self.max_iter = max_iter
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    @property
    def penalty(self):
        """The penalty in scikit-learn's words (read-only), as for :class:`~torchlogit.TorchLogisticClassifier`:
        ``"l1"`` where every ``l1_ratios`` value (once fitted: the chosen ``l1_ratio_``) is 1, so that
        ``SelectFromModel`` keeps every non-zero coefficient by default, as for ``LogisticRegressionCV``."""
        ratios = getattr(self, "l1_ratio_", None)
        try:
            ratios = np.asarray(self.l1_ratios if ratios is None else ratios, dtype=np.float64)
        except (TypeError, ValueError):
            return None
        names = {ratio_penalty_name(ratio) for ratio in ratios.ravel().tolist()}
        if not names:
            return None
        return names.pop() if len(names) == 1 else "elasticnet"

    def __setstate__(self, state):
        super().__setstate__(state)
        # Its refitted model was checked as it was unpickled (its own __setstate__); here, that this is a state of
        # this class, holding that model: another estimator's state under this name predicted with raw AttributeErrors.
        check_unpickled(self)
        model = state.get("_estimator")
        if model is not None and not isinstance(model, TorchLogisticClassifier):
            raise ValueError(
                f"This {type(self).__name__} state is not one torchlogit writes: its model is a "
                f"{type(model).__name__}, not a TorchLogisticClassifier."
            )

    # ----------------------------------------------------------------- checks
    def _grid(self):
        """``(Cs, l1_ratios)`` as float arrays, with errors in the user's terms."""
        if isinstance(self.Cs, Integral):
            Cs = np.logspace(-4, 4, self.Cs)
        else:
            Cs = np.asarray(self.Cs, dtype=np.float64) if _is_numeric(self.Cs) else None
            if Cs is None or Cs.ndim != 1 or Cs.size == 0 or np.any(np.isnan(Cs)) or np.any(Cs <= 0):
                raise ValueError(f"Cs must be an int or an array-like of positive numbers; got Cs={self.Cs!r}.")
        ratios = np.asarray(self.l1_ratios, dtype=np.float64) if _is_numeric(self.l1_ratios) else None
        if (
            ratios is None
            or ratios.ndim != 1
            or ratios.size == 0
            or np.isnan(ratios).any()
            or ((ratios < 0) | (ratios > 1)).any()
        ):
            raise ValueError(
                f"l1_ratios must be an array-like of numbers between 0 and 1; got (l1_ratios={self.l1_ratios!r})"
            )
        return Cs, ratios

    def _class_weight_rows(self, y, targets, sample_weight):
        if self.class_weight is None:
            return np.ones(len(y))
        if isinstance(self.class_weight, dict) and not set(self.class_weight) <= set(targets.classes.tolist()):
            raise ValueError(
                "The given class_weight dict must have the class labels as keys; "
                f"classes={targets.classes} but key={self.class_weight.keys()}"
            )
        weights = class_weights(self.class_weight, classes=targets.classes, y=y, sample_weight=sample_weight)
        return weights[targets.target]

    # ---------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Fit every fold x l1_ratio x C in one batch, choose the best, refit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels, at least two distinct ones.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, multiplied by the class weights; also passed to the
            scorer for the held-out folds (with metadata routing enabled, only if the
            scorer requests them, as in scikit-learn).
        **params : dict
            Parameters for the splitter (``cv``'s ``split``, e.g. ``groups``) and the
            scorer, routed as :class:`~sklearn.linear_model.LogisticRegressionCV` routes
            them: only with ``sklearn.set_config(enable_metadata_routing=True)`` (see
            scikit-learn's metadata routing guide).

        Returns
        -------
        self : TorchLogisticClassifierCV
            The fitted estimator.
        """
        _raise_for_params(params, self, "fit")
        with keep_state_on_failure(self), without_autocast():
            device = resolve_device(self.device, owner=type(self).__name__)
            refuse_mps_training(device)
            dtype = DTYPES[self.dtype]
            Cs, ratios = self._grid()
            weights_given = sample_weight is not None
            labels = y  # classes_ follows its namespace in array-API mode, as the other estimators' does
            X, y, sample_weight, targets = self._validate_fit_data(X, y, sample_weight)
            row_weight = sample_weight * self._class_weight_rows(y, targets, sample_weight)
            if not np.any(row_weight > 0):
                raise ValueError("The sample weights times the class weights are all zero.")
            split_params, score_params = self._routed(params, sample_weight if weights_given else None)
            folds = _folds(check_cv(self.cv, y, classifier=True).split(X, y, **split_params), len(y))
            # How often each row is in each fold's training rows: a row given twice (a bootstrap split)
            # counts twice, as it does in scikit-learn's X[train].
            train_counts = np.zeros((len(y), len(folds)))
            for k, (train, test) in enumerate(folds):
                np.add.at(train_counts[:, k], train, 1.0)
                _check_test_rows(k, test, score_params.get("sample_weight"))
            if self.fit_intercept:
                _warn_missing_classes(folds, np.asarray(targets.target), row_weight, targets.classes)
            with np.errstate(over="ignore"):  # weights summing beyond float64: refused below, in words
                fold_sums = row_weight @ train_counts
            empty = np.flatnonzero(fold_sums <= 0)
            if len(empty):
                raise ValueError(f"The training rows of fold {int(empty[0])} have zero total weight.")
            l1_ratio = float(np.max(ratios))
            # No largest weight for the folds: the path holds each row's weight over its fold's sum (._batched),
            # computed in float64, so rows beyond the dtype's range are fine there.
            for fold_sum in (fold_sums.min(), fold_sums.max()):
                check_weight_scale(fold_sum, Cs, dtype=dtype, l1_ratio=l1_ratio)
            if self.refit:
                # The refit's problem, before the path's work: it holds the summed weight of identical rows in dtype.
                positive = row_weight[row_weight > 0]
                check_weight_scale(
                    row_weight.sum(),
                    Cs,
                    largest=_largest_merged_weight(X, targets, row_weight, dtype),
                    dtype=dtype,
                    smallest=positive.min(),
                    n_rows=len(positive),
                )

            # The rule of every fit (._threads): data under SMALL_VALUES values run on one intra-op thread.
            with threads_for(data_values(X)):
                path, n_iter = self._solve_path(X, targets, row_weight, train_counts, folds, Cs, ratios, device, dtype)
                scores = self._score_path(X, y, targets, score_params, folds, path, Cs, ratios)
                self._publish(X, y, sample_weight, targets, Cs, ratios, path, scores, n_iter)
            follow_labels(self, labels)
        return self

    def _validate_fit_data(self, X, y, sample_weight):
        """``(X, y, sample_weight, targets)`` checked as scikit-learn does: the one place the data are validated.

        ``X`` comes back as a float64 NumPy array or CSR matrix, as LogisticRegressionCV
        validates it (so that ``coef_``, ``intercept_`` and the probabilities are float64 for
        any input, as its are; the solve still runs in ``dtype``), ``sample_weight`` as
        float64 (ones when None) and ``targets`` as :func:`torchlogit._targets.encode_labels` of ``y``.
        """
        X, y, sample_weight = host_inputs(X, y, sample_weight)  # torch tensors: read on the host
        X, y = validate_data(self, X, y, accept_sparse=ACCEPT_SPARSE, dtype=np.float64)
        if sp.issparse(X):
            X = check_sparse_indices(X).tocsr()
        if get_config()["assume_finite"]:
            # The path would score NaN fits and the refit refuse the values naming TorchLogisticClassifier: one pass
            # over X, small beside the path's fits.
            refuse_non_finite(X.data if sp.issparse(X) else X, "X", type(self).__name__)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        return X, y, sample_weight, encode_labels(y, cv=True)

    def _solve_path(self, X, targets, row_weight, train_counts, folds, Cs, ratios, device, dtype):
        """Coefficients (n_folds, n_l1, n_cs, K, n_dof) and iterations of every problem.

        ``row_weight``: each row's sample weight times its class weight; ``train_counts`` (n_rows,
        n_folds): how often each fold's training rows hold each row.
        """
        # Merge rows equal in value, label and training counts, so that weights equal repeats exactly: a
        # merged row's weight in a fold is the sum of its rows' weights times its count there. Rows that
        # no fold trains on are left out.
        in_training = train_counts.any(axis=1)
        rows, weight = canonical_rows(X, np.column_stack([targets.target, train_counts]), row_weight * in_training)
        merged = weight[:, None] * train_counts[rows]

        def batch(dtype):  # the problems' data: one copy of X (see ._batched)
            return BatchedLogistic.from_data(
                X,
                targets.target[rows],
                merged,
                kind=targets.kind,
                n_outputs=targets.n_outputs,
                fit_intercept=self.fit_intercept,
                rows=rows,
                dtype=dtype,
                device=device,
            )

        problem = batch(dtype)
        n_folds = len(folds)
        grid = np.array([(k, r, c) for k in range(n_folds) for r in range(len(ratios)) for c in range(len(Cs))])
        x = torch.zeros((len(grid), problem.n_params), dtype=dtype, device=device)
        n_iter = np.zeros(len(grid), dtype=np.int32)
        converged = np.ones(len(grid), dtype=bool)
        stalled = np.zeros(len(grid), dtype=bool)

        def solve(problem, part, x0=None, **options):
            g = grid[part]
            options = {"tol": self.tol, "max_iter": self.max_iter, "verbose": self.verbose, **options}
            result = batched_lbfgs(problem, g[:, 0], Cs[g[:, 2]], ratios[g[:, 1]], x0=x0, **options)
            x[part], converged[part], stalled[part] = result.x.to(x.dtype), result.converged, result.stalled
            n_iter[part] += result.n_iter
            return result.x

        if getattr(self, "_order", "batch") == "path":
            # The alternative measured in benchmarks/cv.py: Cs in order, each warm-started from the previous one.
            x0 = None
            for c in range(len(Cs)):
                x0 = solve(problem, np.flatnonzero(grid[:, 2] == c), x0, ftol=ftol_for(dtype))
        else:
            for part in chunks(len(grid), len(rows), targets.n_outputs, problem.factor_values(), problem.n_params):
                solve(problem, part, ftol=ftol_for(dtype))
        if dtype != torch.float64 and stalled.any():
            # float32 stalls (its objective's rounding hides further decrease) with the gradient above tol: those
            # problems go on in float64 from where they stopped, as TorchLogisticClassifier's fit does, within
            # max_iter in all (unscaled wine at large C stopped up to 0.12 above tol, 6.6e-2 above the optimum).
            go_on = np.flatnonzero(stalled)
            x = x.to(torch.float64)
            del problem  # its float32 copy of X
            problem = batch(torch.float64)
            # In batches as the float32 runs were (one batch of every stalled problem held up to all of them).
            for part in chunks(len(go_on), len(rows), targets.n_outputs, problem.factor_values(), problem.n_params):
                some = go_on[part]
                solve(problem, some, x[some], ftol=ftol_for(torch.float64), max_iter=self.max_iter - n_iter[some])
        if not converged.all():
            failed = f"{int((~converged).sum())} of the {len(grid)} (fold, l1_ratio, C) problems"
            if (n_iter[~converged] >= self.max_iter).all():
                # scikit-learn's words for each such problem (once here, with their count): filters written for
                # LogisticRegressionCV's warnings hold.
                text = lbfgs_warning(_iteration_limit_message(), 1, self.max_iter, self.max_iter)
                warn(f"{text}\n({failed} of the cross-validation path.)", ConvergenceWarning)
            else:
                # Some stopped short of max_iter on a failed line search (SciPy's L-BFGS-B: status=2, ABNORMAL):
                # more iterations would not help them, so say so rather than "after max_iter iterations".
                short = n_iter[~converged & (n_iter < self.max_iter)]
                at_limit = int((~converged).sum()) - len(short)
                lo, hi = int(short.min()), int(short.max())
                counts = f"{lo}" if lo == hi else f"{lo} to {hi}"
                text = (
                    f"lbfgs failed to converge for {failed}: {len(short)} stopped after {counts} iteration(s), "
                    f"short of max_iter={self.max_iter}, where the line search found no decrease (status=2, ABNORMAL)"
                )
                if at_limit:
                    text += (
                        f", and {at_limit} reached max_iter.\n\n"
                        f"Increase the number of iterations to improve the convergence (max_iter={self.max_iter})."
                    )
                else:
                    text += ".\n\nYou might also want to scale the data, or loosen tol (float64 may not reach it)."
                warn(text, ConvergenceWarning)
        # The parameters are already [W, b] per output, the intercept last, as coefs_paths_.
        K = targets.n_outputs
        coefs = x.reshape(len(grid), K, problem.width).to(torch.float64).cpu().numpy()
        shape = (n_folds, len(ratios), len(Cs))
        coefs = coefs.reshape(*shape, K, -1)
        if targets.kind == "multinomial" and self.fit_intercept:
            # Only the intercepts' differences are identified; OWL-QN lets their sum drift where l1_ratio > 0
            # (TorchLogisticClassifier._publish says why). Centred, as saga's and the single fit's are.
            l1 = ratios > 0
            coefs[:, l1, ..., -1] -= coefs[:, l1, ..., -1].mean(axis=-1, keepdims=True)
        return coefs, n_iter.reshape(shape)

    def _routed(self, params, sample_weight):
        """``(split params, score params)`` of a ``fit``, routed as LogisticRegressionCV routes them.

        Without metadata routing the splitter gets nothing and the scorer the sample weights
        (``params`` is empty then: :func:`_raise_for_params` refused any); with it,
        :func:`~sklearn.utils.metadata_routing.process_routing` gives each what it requested.
        """
        if not _routing_enabled():
            return {}, ({} if sample_weight is None else {"sample_weight": sample_weight})
        routed = process_routing(self, "fit", sample_weight=sample_weight, **params)
        return routed.splitter.split, routed.scorer.score

    def _get_scorer(self):
        """The scorer ``scoring`` names (accuracy for None), as LogisticRegressionCV's ``_get_scorer``."""
        return get_scorer("accuracy" if self.scoring is None else self.scoring)

    def get_metadata_routing(self):
        """The metadata routing of this estimator: ``fit``'s parameters go to ``cv``'s ``split`` and the scorer.

        As ``LogisticRegressionCV.get_metadata_routing`` (scikit-learn's user guide, "Metadata
        routing", says how parameters are requested and routed).

        Returns
        -------
        routing : MetadataRouter
        """
        return (
            MetadataRouter(owner=type(self).__name__)
            .add_self_request(self)
            .add(splitter=self.cv, method_mapping=MethodMapping().add(caller="fit", callee="split"))
            .add(
                scorer=self._get_scorer(),
                method_mapping=MethodMapping().add(caller="score", callee="score").add(caller="fit", callee="score"),
            )
        )

    def _score_path(self, X, y, targets, score_params, folds, path, Cs, ratios):
        """Held-out scores (n_folds, n_l1, n_cs) from the path, through the scorer.

        ``scoring="neg_log_loss"`` (the default) is computed here for all Cs of a fold at
        once, as :func:`sklearn.metrics.log_loss` computes it (probabilities clipped to
        ``[eps, 1 - eps]``, weighted mean); the scorer's per-call input validation cost
        more than the batched solve (tests/test_cv.py checks both routes agree to 1e-12).
        ``score_params`` (from :meth:`_routed`) are the scorer's, indexed by each fold's test rows.
        """
        classes = targets.classes
        shortcut = self.scoring == "neg_log_loss" and set(score_params) <= {"sample_weight"}
        scorer = None if shortcut else _fold_scorer(self._get_scorer(), classes)
        n_features = X.shape[1]
        # The scorer's LogisticRegression: this estimator's settings, and each point's C and l1_ratio.
        settings = dict(
            fit_intercept=self.fit_intercept, class_weight=self.class_weight, tol=self.tol, max_iter=self.max_iter
        )
        scores = np.empty(path.shape[:3])
        for k, (_, test) in enumerate(folds):
            X_test, y_test = X[test], y[test]
            kwargs = _check_method_params(X, params=score_params, indices=test)
            weight = kwargs.get("sample_weight")
            flat = path[k].reshape(-1, path.shape[-1])  # (n_l1 * n_cs * K, n_dof)
            logits = _held_out_logits(X_test, flat[:, :n_features])
            if self.fit_intercept:
                logits += flat[:, n_features]
            logits = logits.reshape(len(test), *path.shape[1:4])
            if scorer is None:
                scores[k] = -_log_loss(logits, targets.target[test], weight)
                continue
            for r in range(path.shape[1]):
                for c in range(path.shape[2]):
                    coef, intercept = self._split(path[k, r, c], n_features)
                    params = dict(settings, C=float(Cs[c]), l1_ratio=float(ratios[r]))
                    point = np.ascontiguousarray(logits[:, r, c])
                    model = _PathModel.at(params, classes, coef, intercept, X_test, point)
                    scores[k, r, c] = scorer(model, X_test, y_test, **kwargs)
        return scores

    def _split(self, w, n_features):
        coef = w[:, :n_features]
        intercept = w[:, n_features] if self.fit_intercept else np.zeros(len(w))
        return coef, intercept

    def _publish(self, X, y, sample_weight, targets, Cs, ratios, path, scores, n_iter):
        n_features = X.shape[1]
        if self.refit:
            total = scores.sum(axis=0).T  # (n_cs, n_l1), summed over folds in sklearn's order
            best_c, best_r = np.unravel_index(np.argmax(total), total.shape)
            C, l1_ratio = float(Cs[best_c]), float(ratios[best_r])
            start = path[:, best_r, best_c].mean(axis=0)
            model = self._model(targets, n_features, C, l1_ratio, start, warm_start=True)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="X does not have valid feature names")
                warnings.filterwarnings("ignore", message="X has feature names")
                model.fit(X, y, sample_weight=sample_weight)
            model.set_params(warm_start=False)
        else:
            flat = scores.transpose(0, 2, 1).reshape(len(scores), -1)  # (n_folds, n_cs * n_l1)
            best_c, best_r = np.unravel_index(np.argmax(flat, axis=1), (len(Cs), len(ratios)))
            C, l1_ratio = float(np.mean(Cs[best_c])), float(np.mean(ratios[best_r]))
            start = np.mean([path[k, best_r[k], best_c[k]] for k in range(len(scores))], axis=0)
            model = self._model(targets, n_features, C, l1_ratio, start, warm_start=False)
        self._estimator = model
        self.classes_ = targets.classes
        self.coef_, self.intercept_ = model.coef_, model.intercept_
        self.Cs_ = Cs
        self.l1_ratios_ = ratios
        self.C_ = C
        self.l1_ratio_ = l1_ratio
        self.scores_ = scores
        self.coefs_paths_ = path
        self.n_iter_ = n_iter

    def _inner_params(self, C, l1_ratio, *, warm_start):
        return dict(
            C=C,
            l1_ratio=l1_ratio,
            fit_intercept=self.fit_intercept,
            class_weight=self.class_weight,
            max_iter=self.max_iter,
            tol=self.tol,
            warm_start=warm_start,
            device=self.device,
            dtype=self.dtype,
            random_state=self.random_state,
            verbose=max(0, int(self.verbose) - 1),
        )

    def _model(self, targets, n_features, C, l1_ratio, start, *, warm_start):
        """A fitted :class:`TorchLogisticClassifier` whose arrays are ``start`` (K, n_dof), in float64.

        With ``warm_start`` its next ``fit`` starts from them (``_fitted_state``).
        """
        model = TorchLogisticClassifier(**self._inner_params(C, l1_ratio, warm_start=warm_start))
        coef, intercept = self._split(start, n_features)
        model.classes_ = targets.classes
        model.n_features_in_ = n_features
        model._kind = targets.kind
        model._n_outputs = targets.n_outputs
        model.n_iter_ = np.zeros(1, dtype=np.int32)
        model._set_layers([(coef.T, intercept)], np.float64)
        return model

    # ------------------------------------------------------------ persistence
    def save(self, path):
        """Save the fitted model in torchlogit's safe format (no pickle; see :meth:`load`).

        The file holds the refitted (or fold-averaged) :class:`TorchLogisticClassifier`'s
        arrays and fitted attributes, with this estimator's parameters and cross-validation
        results (``Cs_``, ``l1_ratios_``, ``scores_``, ``coefs_paths_``, ``n_iter_`` and the
        chosen ``C_`` / ``l1_ratio_``) as named float64 arrays.

        Parameters
        ----------
        path : str or path-like
            Where to write the file.

        Raises
        ------
        TypeError
            When the model holds what the format does not store (see
            :meth:`TorchLogisticClassifier.save`): the file is checked with
            :meth:`load`'s rules before it is written.
        """
        check_is_fitted(self)
        save_model(self, path)

    @classmethod
    def load(cls, path, device="cpu"):
        """Load a model written by :meth:`save`, executing nothing from the file.

        Parameters
        ----------
        path : str or path-like
            A file written by :meth:`save`.
        device : str or torch.device, default="cpu"
            Where the loaded model predicts (a device this machine lacks: on the CPU here,
            set up for that device elsewhere); a malformed name raises a ``ValueError``.

        Returns
        -------
        estimator : TorchLogisticClassifierCV
            Fitted, with identical predictions and cross-validation results.

        Raises
        ------
        ModelFileError
            (a ``ValueError``) for a file that is not a TorchLogisticClassifierCV model, was
            truncated or altered, or describes anything inconsistently.
        """
        return load_model(cls, path, device=device)

    # The safe format's hooks for a wrapper (see torchlogit._persistence).
    def _file_parts(self):
        """The inner model and this estimator's own arrays, for the file."""
        arrays = {
            "Cs_": self.Cs_,
            "l1_ratios_": self.l1_ratios_,
            "scores_": self.scores_,
            "coefs_paths_": self.coefs_paths_,
            "n_iter_": self.n_iter_,
            "choice": [self.C_, self.l1_ratio_],
        }
        return self._fitted(), {name: np.asarray(value, dtype=np.float64) for name, value in arrays.items()}

    def _file_array_shapes(self, shapes, n_features, n_outputs):
        """The arrays' shapes a file must list, from the grid sizes it gives (Cs_, l1_ratios_, scores_)."""
        n_cs, n_l1, n_folds = (shapes.get(name, (0,))[0] for name in ("Cs_", "l1_ratios_", "scores_"))
        if min(n_cs, n_l1, n_folds) < 1:
            raise ValueError("the file's cross-validation grid is empty")
        grid = (n_folds, n_l1, n_cs)
        return {
            "Cs_": (n_cs,),
            "l1_ratios_": (n_l1,),
            "scores_": grid,
            "coefs_paths_": (*grid, n_outputs, n_features + int(self.fit_intercept)),
            "n_iter_": grid,
            "choice": (2,),
        }

    def _file_model(self):
        """The inner model the loader fills with the file's arrays (C and l1_ratio set in :meth:`_from_file`)."""
        return TorchLogisticClassifier(**self._inner_params(1.0, 0.0, warm_start=False))

    def _from_file(self, model, arrays):
        """Set the fitted attributes from the loaded inner model and the file's arrays, checking their values."""
        Cs, ratios, n_iter = arrays["Cs_"], arrays["l1_ratios_"], arrays["n_iter_"]
        C, l1_ratio = (float(v) for v in arrays["choice"])
        # +inf is a valid C (no penalty: scikit-learn's advice for penalty=None is Cs=[np.inf]); NaN and <= 0 are not.
        if not (np.all(Cs > 0) and C > 0):
            raise ValueError("the file's Cs_ / C_ are not positive numbers (or +inf)")
        if not (np.all((ratios >= 0) & (ratios <= 1)) and 0 <= l1_ratio <= 1):
            raise ValueError("the file's l1_ratios_ / l1_ratio_ are not numbers between 0 and 1")
        if not np.all(np.isfinite(arrays["coefs_paths_"])):
            raise ValueError("the file's coefs_paths_ holds non-finite values")
        if not np.all((n_iter >= 0) & (n_iter <= np.iinfo(np.int32).max) & (n_iter == np.round(n_iter))):
            raise ValueError("the file's n_iter_ are not iteration counts")
        model.set_params(C=C, l1_ratio=l1_ratio)
        self._estimator = model
        self.coef_, self.intercept_ = model.coef_, model.intercept_
        self.Cs_, self.l1_ratios_, self.C_, self.l1_ratio_ = Cs, ratios, C, l1_ratio
        self.scores_ = arrays["scores_"]
        self.coefs_paths_ = arrays["coefs_paths_"]
        self.n_iter_ = n_iter.astype(np.int32)

    # ------------------------------------------------------------- prediction
    def _fitted(self):
        """The refitted model predicting for this estimator, holding this estimator's ``coef_`` and ``intercept_``.

        They are the model, as ``LogisticRegressionCV``'s are: an array assigned to either (not only one edited
        in place) changes the predictions, the saved file and the ONNX export. So is ``classes_``: labels
        assigned to it are those ``predict`` and the exports give, as the saved file (which writes this
        estimator's ``classes_``) did while ``predict`` kept the inner model's.
        """
        check_is_fitted(self)
        model = self._estimator
        model.coef_, model.intercept_, model.classes_ = self.coef_, self.intercept_, self.classes_
        return model

    def to_onnx(self, path):
        """Export the refitted (or fold-averaged) model to an ONNX file, as
        :meth:`TorchLogisticClassifier.to_onnx` does (skl2onnx converts this estimator too,
        with :mod:`torchlogit.onnx`).

        Parameters
        ----------
        path : str or path-like
            Where to write the ``.onnx`` file.

        Returns
        -------
        self : TorchLogisticClassifierCV
            The estimator, unchanged.
        """
        self._fitted().to_onnx(path)
        return self

    def sparsify(self):
        """Convert ``coef_`` to a ``scipy.sparse`` CSR matrix, as ``LogisticRegressionCV.sparsify`` does.

        With an L1 part most coefficients are zero; the sparse form then takes less memory and
        predicts faster. Predictions do not change.

        Returns
        -------
        self : TorchLogisticClassifierCV
            Fitted estimator.

        Examples
        --------
        >>> from sklearn.datasets import load_breast_cancer
        >>> from sklearn.preprocessing import StandardScaler
        >>> from torchlogit import TorchLogisticClassifierCV
        >>> X, y = load_breast_cancer(return_X_y=True)
        >>> X = StandardScaler().fit_transform(X)
        >>> model = TorchLogisticClassifierCV(Cs=[0.05, 0.1], l1_ratios=[1.0]).fit(X, y).sparsify()
        >>> type(model.coef_).__name__, model.coef_.nnz < X.shape[1]
        ('csr_matrix', True)
        """
        check_is_fitted(self, msg=f"Estimator, {type(self).__name__}, must be fitted before sparsifying.")
        self.coef_ = self._fitted().sparsify().coef_
        return self

    def densify(self):
        """Convert a sparse ``coef_`` (see :meth:`sparsify`) back to a NumPy array, the default format.

        Returns
        -------
        self : TorchLogisticClassifierCV
            Fitted estimator.
        """
        check_is_fitted(self, msg=f"Estimator, {type(self).__name__}, must be fitted before densifying.")
        self.coef_ = self._fitted().densify().coef_
        return self

    def _check_features(self, X):
        """``X`` validated against this estimator's fit (feature names and count), for the inner model."""
        return check_sparse_indices(
            validate_data(self, X, reset=False, accept_sparse=ACCEPT_SPARSE, dtype=[np.float64, np.float32])
        )

    def decision_function(self, X):
        """Logits: shape (n_samples,) for binary targets, (n_samples, n_classes) otherwise.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        model = self._fitted()
        return origin_of(X).wrap(model.decision_function(self._check_features(host_array(X))))

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        model = self._fitted()
        return origin_of(X).wrap(model.predict_proba(self._check_features(host_array(X))))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        model = self._fitted()
        return origin_of(X).wrap(model.predict_log_proba(self._check_features(host_array(X))))

    def predict(self, X):
        """Most probable class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        model = self._fitted()
        return origin_of(X).wrap(model.predict(self._check_features(host_array(X))))

    @cv_score_convention
    def score(self, X, y, *, sample_weight=None, **score_params):
        """Score with the ``scoring`` option on ``(X, y)``, as LogisticRegressionCV's ``score`` (``sample_weight`` by
        position is deprecated where scikit-learn deprecates it there: a ``FutureWarning``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        **score_params : dict
            Parameters for the scorer, with metadata routing enabled (as scikit-learn's).

        Returns
        -------
        score : float
        """
        _raise_for_params(score_params, self, "score")
        X, y, sample_weight = host_inputs(X, y, sample_weight)  # the scorer works on NumPy
        scorer = self._get_scorer()
        if sample_weight is not None:
            score_params["sample_weight"] = sample_weight
        if _routing_enabled():
            return scorer(self, X, y, **process_routing(self, "score", **score_params).scorer.score)
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        return scorer(self, X, y, **kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _is_numeric(values):
    """Whether ``values`` are numbers: an array of a numeric dtype, or of objects that are all real numbers (an
    object-dtype array or pandas Series of floats, which scikit-learn's LogisticRegressionCV takes)."""
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):
        return False
    if array.dtype.kind == "O":
        return array.size > 0 and all(isinstance(v, Real) for v in array.ravel())
    return array.dtype.kind in "biuf"
