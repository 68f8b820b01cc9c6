"""Parameter descriptions shared by the estimators, written once, and each estimator's own method docs.

Class docstrings use ``${name}`` placeholders that :func:`fill_doc` replaces. The two
estimators are siblings that inherit their prediction methods from one base class;
:func:`fill_doc` gives each of them its own copy of those methods, documented in its own
terms (classes for one, labels for the other), so that neither's docs describe the other.
"""

import inspect
import re
import types
from string import Template

# The estimators' API pages, where scikit-learn's HTML repr links them (``_doc_link_template``, as its own estimators
# link theirs; the address is pyproject.toml's Documentation URL).
DOC_LINK_TEMPLATE = "https://torchlogit.github.io/torchlogit/generated/{estimator_module}.{estimator_name}.html"

SHARED = {
    "C": """C : float, default=1.0
        Inverse of regularisation strength, as in scikit-learn's
        ``LogisticRegression``: the penalty is ``||W||^2 / (2 * C * S)`` with ``S`` the
        sum of sample weights. ``np.inf`` means no penalty. Biases are never penalised.""",
    "l1_ratio": """l1_ratio : float in [0, 1], default=0.0
        Elastic-net mixing, as in scikit-learn 1.9: 0 is L2, 1 is L1, in between mixes
        them; the penalty is ``((1 - l1_ratio)/2 ||W||^2 + l1_ratio ||W||_1) / (C S)``.
        With an L1 part, "lbfgs" runs OWL-QN (orthant-wise L-BFGS, Andrew & Gao 2007),
        stopping when the largest entry of the pseudo-gradient is at most ``tol`` or the
        objective stops decreasing; "adam" / "sgd" apply the cumulative L1 penalty of
        Tsuruoka et al. (2009) after each mini-batch step, as scikit-learn's
        ``SGDClassifier`` does: each weight is pulled towards zero, and clipped at zero,
        by the penalty it should have received since training started minus what it
        has received (for "adam", each step's share divided by Adam's per-coordinate
        denominator). Both give coefficients that are exactly zero.${l1_newton}""",
    "fit_intercept": """fit_intercept : bool, default=True
        Whether to learn an (unpenalised) intercept.""",
    "max_iter": """max_iter : int, default=${max_iter}
        L-BFGS: maximum number of iterations (one skorch epoch each, float32 and float64
        ones together).${max_iter_newton} "adam" / "sgd": maximum number of epochs.
        Reaching it without converging emits a ``ConvergenceWarning``. ``0`` returns the
        starting point (zeros, or the previous fit with ``warm_start``) with a
        ``ConvergenceWarning``, as ``LogisticRegression`` accepts ``max_iter=0`` (whose SciPy
        L-BFGS-B still takes one step, and reports ``n_iter_ == [0]``; ``MLPClassifier`` and
        ``SGDClassifier`` refuse it).""",
    "tol": """tol : float, default=1e-4
        "lbfgs" stops, as scikit-learn's L-BFGS-B does, on the first of:

        * the largest absolute entry of the objective's gradient (the pseudo-gradient
          with an L1 part) is at most ``tol`` (scikit-learn's ``gtol``): converged;
        * an iteration lowers the objective by at most ``64 * eps`` (float64's eps)
          relative to ``max(|f|, 1)`` (``LogisticRegression``'s ``ftol``; ``MLPClassifier``'s
          L-BFGS uses SciPy's looser default, about 2.2e-9): converged, no further progress
          is possible;
        * the line search finds no finite point that lowers the objective: not
          converged (``ConvergenceWarning``, status 2, parameters at the last finite point);
        * ``max_iter`` iterations: not converged (``ConvergenceWarning``, status 1).

        Convergence is judged in float64 terms. With ``dtype="float32"``, a run that
        stalls short of ``tol`` (a failed line search, or progress within the float32
        objective's rounding: at most ``8 * eps`` of float32 relative, and for a linear model
        at most ``eps * (1 + max|x| * ||w||_1) / sqrt(n)``), or whose float32 gradient at
        most ``tol`` is within float32's rounding error of the feature scale, continues in
        float64 from the same point
        (curvature pairs kept) until one of the rules above holds; iterations of both
        precisions count towards ``max_iter`` and ``n_iter_``, and
        ``[row["precision"] for row in history_]`` tells them apart.${tol_newton}
        "adam" / "sgd" stop when the ${monitored_loss} has not improved by
        ``tol`` for ``n_iter_no_change`` consecutive epochs (scikit-learn's
        ``MLPClassifier`` rule).""",
    "learning_rate_init": """learning_rate_init : float, default=${learning_rate_init}
        Step size of the "adam" and "sgd" solvers; the other solvers do not use it.
        "sgd" applies the L2 penalty as a gradient step, which multiplies the
        coefficients by ``1 - learning_rate_init (1 - l1_ratio) / (C S)`` (``S`` the sum
        of the sample weights): from ``2 (1 + momentum)`` on, every step overshoots and
        the fit diverges whatever the data, so such a (C, rate) pair is refused with a
        ``ValueError`` naming the largest rate and the smallest C that work.""",
    "batch_size": """batch_size : int or "auto", default="auto"
        Mini-batch size of "adam" and "sgd"; "auto" is ``min(200, n_samples)``. A larger
        integer is clipped to the number of training rows, with a ``UserWarning``, as in
        ``MLPClassifier``.
        Mini-batches are slices of device tensors, reshuffled each epoch. An epoch runs
        over the *distinct* rows (identical rows are merged, their weights summed, so that
        a weight of k is exactly k repeated rows): data with many repeated rows (one-hot
        or categorical features) take fewer, heavier steps per epoch than
        ``MLPClassifier``'s ``ceil(n_samples / batch_size)`` (5000 rows of 8 distinct
        values: one step). Lower ``batch_size`` or raise ``max_iter`` there, or use
        "lbfgs", which merging does not change.""",
    "momentum": """momentum : float in [0, 1), default=0.9
        Momentum of the "sgd" solver: heavy-ball momentum (``torch.optim.SGD``), which is
        ``MLPClassifier(nesterovs_momentum=False)``'s update (equal to 1e-15 from the same
        weights). ``MLPClassifier``'s default is Nesterov's momentum, which has no switch
        here; its fits differ by the momentum's look-ahead. ``MLPClassifier`` also accepts 1,
        where heavy-ball steps never decay: refused here.""",
    "n_iter_no_change": """n_iter_no_change : int or np.inf, default=10
        Epochs without improvement before "adam" / "sgd" stop; ``np.inf`` turns the
        rule off (they run ``max_iter`` epochs), as in ``MLPClassifier``. A run the rule
        stops with its last epoch's loss over twice its best (steps that overshoot:
        unscaled features, or too large a ``learning_rate_init``) also emits a
        ``ConvergenceWarning``, where ``MLPClassifier`` is silent.""",
    "warm_start": """warm_start : bool, default=False
        Start from the previous fit's parameters instead of the usual initialisation. As with
        scikit-learn's L-BFGS, a warm start where the gradient is already within ``tol`` takes no
        iteration (``n_iter_`` is ``[0]``) and keeps the parameters.""",
    "device": """device : str or torch.device, default="cpu"
        Where to train and predict: "cpu", "cuda", "cuda:N", "mps" or "auto" (CUDA if
        available, else CPU). "mps" predicts but does not train (the solvers accumulate in
        float64, which MPS lacks: ``fit`` raises a ``ValueError``). A device this machine lacks raises a
        ``ValueError`` listing the available ones. Fitted arrays are NumPy on the host
        whatever the device, so a model trained on a GPU unpickles without one.""",
    "dtype": """dtype : {"float32", "float64"}, default="float32"
        Precision of the computation on the device. Use "float64" for agreement with
        scikit-learn to many digits. With "float32", L-BFGS continues in float64 when
        float32 stalls short of ``tol`` (see ``tol``), on a float64 copy of the training
        rows made only then. A feature value beyond float32's range (about 3.4e38,
        finite in float64) is refused with a ``ValueError`` naming its column: use
        "float64" for such data, or rescale that feature.""",
    "random_state": """random_state : int, RandomState instance or None, default=None
        Seeds mini-batch shuffling and (for hidden layers) initialisation and dropout,
        through generators of the estimator's own: torch's global random state is
        neither used nor changed, so fits in concurrent threads give the results of
        fits run one after the other. The same value gives identical results.""",
    "verbose": """verbose : int, default=0
        Print one line per epoch (skorch's ``PrintLog``).""",
    "callbacks": """callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Passed to the skorch net as they are (copied, so ``fit`` never changes them).
        Callbacks that act on the parameters or gradients within an epoch (skorch's
        ``Freezer``, ``LRScheduler``, ``GradientNormClipping``, any ``on_grad_computed``)
        need solver="adam" or "sgd": the full-batch solvers refuse them with a ``ValueError``.""",
    "fitted_net": """loss_curve_ : list of float
        The objective after each epoch (each L-BFGS iteration for "lbfgs"; for "adam" /
        "sgd" the mean loss of the epoch's mini-batches), as ``MLPClassifier``'s. A
        ``warm_start`` fit of :class:`~torchlogit.TorchMultiLabelClassifier` with "adam" /
        "sgd" appends to it, as ``MLPClassifier``'s does; every other fit's curve (every
        :class:`~torchlogit.TorchLogisticClassifier` fit's, as ``LogisticRegression`` keeps
        no curve) is its own, as ``n_iter_`` is.
    history_ : list of dict
        The training history, one dict per epoch, as plain Python values (what skorch
        recorded, ``callbacks``' records included). Kept in memory after fitting, not
        pickled. The skorch net itself is not kept: the fitted arrays are the model.""",
}

# Parts of the shared texts that depend on what an estimator offers: placeholder -> (text for an
# estimator that offers it, text for one that does not); see _offered_texts.
OFFERED = {
    "newton-cholesky": {
        "l1_newton": (
            """
        "newton-cholesky" takes no L1 part: ``l1_ratio > 0`` with a finite ``C`` raises
        a ``ValueError``.""",
            "",
        ),
        "max_iter_newton": (
            """
        "newton-cholesky": maximum number of Newton iterations.""",
            "",
        ),
        "tol_newton": (
            """
        "newton-cholesky" stops, as scikit-learn's does, when both the largest absolute
        gradient entry and half the squared Newton decrement are at most ``tol``; after a
        fall-back to L-BFGS (a failed Cholesky factorisation or line search, with
        scikit-learn's warnings), by the "lbfgs" rules above.""",
            "",
        ),
    },
    "early_stopping": {
        "monitored_loss": (
            """training loss (the validation loss with
        ``early_stopping=True``)""",
            "training loss",
        ),
    },
}


def _offered_texts(cls):
    """The :data:`OFFERED` texts for ``cls``: whether its ``solver`` takes "newton-cholesky", whether it has
    an ``early_stopping`` parameter."""
    constraints = getattr(cls, "_parameter_constraints", {}).get("solver", [])
    solvers = {option for c in constraints for option in getattr(c, "options", ())}
    offers = {
        "newton-cholesky": "newton-cholesky" in solvers,
        "early_stopping": "early_stopping" in inspect.signature(cls.__init__).parameters,
    }
    return {
        name: texts[0 if offers[feature] else 1] for feature, part in OFFERED.items() for name, texts in part.items()
    }


_X = """X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples."""

METHOD_DOCS = {
    "logistic": {
        "decision_function": f"""Logits: the signed distance of each sample to the decision boundary.

        Parameters
        ----------
        {_X}

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Binary targets: one score per sample, positive for ``classes_[1]``. More
            classes: one logit per class, columns following ``classes_``.
        """,
        "predict_proba": f"""Class probabilities.

        Parameters
        ----------
        {_X}

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``; each row sums to one.
        """,
        "predict_log_proba": f"""Logarithm of :meth:`predict_proba`, computed stably from the logits.

        Parameters
        ----------
        {_X}

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """,
        "predict": f"""Most probable class of each sample.

        Parameters
        ----------
        {_X}

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """,
        "score": f"""Mean accuracy of :meth:`predict` on ``X`` against ``y``.

        Parameters
        ----------
        {_X}
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            The (weighted) fraction of samples predicted right.
        """,
    },
    "multilabel": {
        "decision_function": f"""Logits: one per label (or per class, for 1-D targets).

        Parameters
        ----------
        {_X}

        Returns
        -------
        scores : ndarray of shape (n_samples, n_labels), (n_samples,) or (n_samples, n_classes)
            Indicator targets: one logit per label, positive when the label is more
            likely on than off. 1-D targets, as ``MLPClassifier``: one score per sample
            for two classes (positive for ``classes_[1]``), else one logit per class.
        """,
        "predict_proba": f"""Probability of each label (or of each class, for 1-D targets).

        Parameters
        ----------
        {_X}

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels) or (n_samples, n_classes)
            Indicator targets: the independent probability of each label (rows need not
            sum to one). 1-D targets: class probabilities, columns following ``classes_``.
        """,
        "predict_log_proba": f"""Log of :meth:`predict_proba`, per label (per class for 1-D targets), computed stably.

        Parameters
        ----------
        {_X}

        Returns
        -------
        log_proba : ndarray, same shape as :meth:`predict_proba`
        """,
        "score": f"""Subset accuracy: the fraction of samples whose labels are all predicted right.

        Parameters
        ----------
        {_X}
        y : array-like of shape (n_samples, n_labels) or (n_samples,)
            True labels (an indicator matrix, or 1-D labels for a 1-D fit).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            The (weighted) fraction of samples with every label right (for 1-D targets,
            the accuracy).
        """,
    },
}


def _logistic_summary_doc(doc):
    """The shared ``summary`` docstring without its multi-label cases (for TorchLogisticClassifier)."""
    for shared, own in [
        ("y : array-like of shape (n_samples,) or (n_samples, n_labels)", "y : array-like of shape (n_samples,)"),
        ("Class weights and ``pos_weight`` scale", "Class weights scale"),
        ("one intercept per output", "one intercept per class"),
    ]:
        doc = doc.replace(shared, own)
    # Across a line break, whatever its indentation (Python >= 3.13 dedents docstrings when it compiles them).
    return re.sub(
        r"Multinomial and\n(\s*)multi-label models index rows by \(class or label, feature\)\.",
        r"Multinomial\n\1models index rows by (class, feature).",
        doc,
    )


# Inherited methods whose shared docstring only needs editing: name -> function of the inherited docstring.
METHOD_DOC_EDITS = {"logistic": {"summary": _logistic_summary_doc}}


def _own_method(cls, name, doc):
    """Give ``cls`` its own copy of an inherited method, with docstring ``doc``.

    The copy shares the original's code, globals, defaults and closure (so ``super()``
    resolves exactly as before): it behaves identically, without an extra call frame.
    """
    inherited = getattr(cls, name)
    method = types.FunctionType(
        inherited.__code__, inherited.__globals__, name, inherited.__defaults__, inherited.__closure__
    )
    method.__kwdefaults__ = inherited.__kwdefaults__
    method.__dict__.update(inherited.__dict__)
    method.__module__ = cls.__module__
    method.__qualname__ = f"{cls.__qualname__}.{name}"
    method.__doc__ = doc
    setattr(cls, name, method)


def _at_margin(text):
    """A shared text for a cleaned docstring: its continuation lines, written for the 4-space margin of a
    class docstring in the source, moved 4 columns left."""
    first, *rest = text.split("\n")
    assert all(line.startswith("    ") or not line.strip() for line in rest), text
    return "\n".join([first, *(line[4:] for line in rest)])


def fill_doc(methods=None, **defaults):
    """Class decorator: put the shared descriptions into ``${name}`` placeholders.

    ``defaults`` fill placeholders inside the shared texts (such as a default value
    that differs between estimators); the class's parameters choose the :data:`OFFERED`
    texts (a solver or an option that only one estimator has). ``methods`` names an entry of :data:`METHOD_DOCS`:
    the inherited methods listed there that the class does not define itself get a copy
    documented for this class.
    """

    def decorate(cls):
        values = {**_offered_texts(cls), **defaults}
        shared = {k: _at_margin(Template(v).safe_substitute(values)) for k, v in SHARED.items()}
        # Cleaned first: Python >= 3.13 strips the docstring's margin when it compiles it, older ones
        # keep it; either way the placeholders then sit at column 0, where the shared texts fit.
        cls.__doc__ = Template(inspect.cleandoc(cls.__doc__)).safe_substitute(shared)
        for name, doc in METHOD_DOCS.get(methods, {}).items():
            if name not in vars(cls):
                _own_method(cls, name, doc)
        for name, edit in METHOD_DOC_EDITS.get(methods, {}).items():
            if name not in vars(cls):
                _own_method(cls, name, edit(getattr(cls, name).__doc__))
        return cls

    return decorate
