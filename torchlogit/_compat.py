"""scikit-learn behaviour we rely on that older releases in our declared range lack.

Each name here is scikit-learn's own function where the installed release has the behaviour,
and a small stand-in written to match that release's arithmetic and messages otherwise:

- ``compute_class_weight(..., sample_weight=...)``: the ``sample_weight`` keyword is scikit-learn
  >= 1.7 ("balanced" weights computed from the weighted class counts);
- ``_check_sample_weight``: all-zero weights are refused by scikit-learn >= 1.7 (before that they
  passed and failed later, e.g. as a ZeroDivisionError);
- ``LBFGS_WARNING_BEFORE_1_7``: the wording of L-BFGS's ``ConvergenceWarning`` changed in
  scikit-learn 1.7 (scikit-learn PR #31316: the iteration count, the ``max_iter`` advice only at
  the limit); torchlogit's warning follows the installed release's words.

- ``ARRAY_API_DISPATCH_AVAILABLE``: scikit-learn's array-API mode needs SciPy >= 1.14 (scikit-learn
  1.6 to 1.9 refuse ``array_api_dispatch=True`` below it, with an ``ImportError``) and torchlogit's
  data layer uses ``move_to`` and ``check_same_namespace`` of ``sklearn.utils._array_api``, which
  scikit-learn 1.6 lacks. Where either is missing, the estimators do not declare
  ``array_api_support`` (so ``check_estimator`` runs no array-API check) and read array-API mode as off.

The check is on the feature (the keyword in the signature), not on the version number, except
for the warning's text, which only the version tells.
"""

import functools
import inspect
import numbers
import warnings

import numpy as np
import sklearn
from sklearn.utils.class_weight import compute_class_weight as _sklearn_compute_class_weight
from sklearn.utils.fixes import parse_version
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight as _sklearn_check_sample_weight
from sklearn.utils.validation import assert_all_finite

_ALL_ZERO_MESSAGE = "Sample weights must contain at least one non-zero number."


def _has_keyword(function, name):
    return name in inspect.signature(function).parameters


def balanced_class_weight(classes, y, sample_weight):
    """scikit-learn >= 1.7's "balanced" class weights from weighted counts, for older releases.

    ``n_weighted / (n_classes * weighted_count[class])``, with the same operations in the same order as
    scikit-learn 1.7, so that the two agree bitwise. Validation (unknown labels, classes missing from
    ``y``) is scikit-learn's: its unweighted ``compute_class_weight`` runs first.
    """
    _sklearn_compute_class_weight("balanced", classes=classes, y=y)
    labels, y_index = np.unique(y, return_inverse=True)
    sample_weight = _check_sample_weight(sample_weight, np.asarray(y))
    weighted_counts = np.bincount(y_index.ravel(), weights=sample_weight, minlength=len(labels))
    reciprocal_frequency = np.sum(weighted_counts) / (labels.size * weighted_counts)
    return reciprocal_frequency[np.searchsorted(labels, classes)]


def _compute_class_weight_before_1_7(class_weight, *, classes, y, sample_weight=None):
    if sample_weight is not None and isinstance(class_weight, str) and class_weight == "balanced":
        return balanced_class_weight(classes, y, sample_weight)
    # None, a dict, or balanced without weights: sample_weight is unused there in scikit-learn >= 1.7 too.
    return _sklearn_compute_class_weight(class_weight, classes=classes, y=y)


def _check_sample_weight_before_1_7(sample_weight, X, **kwargs):
    # No allow_all_zero_weights: torchlogit never allows them.
    sample_weight = _sklearn_check_sample_weight(sample_weight, X, **kwargs)
    if not np.any(sample_weight != 0):
        raise ValueError(_ALL_ZERO_MESSAGE)
    return sample_weight


if _has_keyword(_sklearn_compute_class_weight, "sample_weight"):
    compute_class_weight = _sklearn_compute_class_weight
else:  # scikit-learn < 1.7
    compute_class_weight = _compute_class_weight_before_1_7

if _has_keyword(_sklearn_check_sample_weight, "allow_all_zero_weights"):
    _check_release_sample_weight = _sklearn_check_sample_weight
else:  # scikit-learn < 1.7
    _check_release_sample_weight = _check_sample_weight_before_1_7


def refuse_non_finite(values, input_name, estimator_name=None):
    """scikit-learn's ``assert_all_finite`` (its words), also under ``config_context(assume_finite=True)``, which
    makes it a no-op: for values a fit would otherwise read wrongly (a NaN weight dropped as not positive, a NaN in
    X reported as an overflow of the training dtype)."""
    with sklearn.config_context(assume_finite=False):
        assert_all_finite(values, input_name=input_name, estimator_name=estimator_name)


def _check_sample_weight(sample_weight, X, **kwargs):
    """scikit-learn's ``_check_sample_weight``, with a scalar weight checked for NaN / infinity as an array's is.

    scikit-learn checks the values of an array of weights, not of a scalar, which it spreads over every row
    (``np.full``): ``sample_weight=np.nan`` reached the training as rows of NaN weight (dropped as not positive:
    NumPy's "zero-size array to reduction operation maximum" from an empty training set) and ``np.inf`` a
    "weights sum to inf" advice to rescale them; ``summary`` reported NaN statistics. Now
    "Input sample_weight contains NaN." / "... infinity ...", the words for an array holding them.
    """
    weights = _check_release_sample_weight(sample_weight, X, **kwargs)
    if isinstance(sample_weight, numbers.Number):  # scikit-learn's own test for a scalar (no array function)
        assert_all_finite(weights, input_name="sample_weight")
    elif sklearn.get_config()["assume_finite"]:
        # There scikit-learn fits NaN weights to zero coefficients with a ConvergenceWarning (status 2); ours were
        # dropped as not positive, and the fit went on without their rows, silently. One pass over n weights.
        refuse_non_finite(weights, "sample_weight")
    return weights


def sklearn_release():
    """The installed scikit-learn's release as a tuple of ints, e.g. (1, 9, 1)."""
    return parse_version(sklearn.__version__).release


LBFGS_WARNING_BEFORE_1_7 = sklearn_release() < (1, 7)


def cv_score_convention(score):
    """``LogisticRegressionCV.score``'s way of taking ``sample_weight``, for ``score`` (defined keyword-only): by
    position with a ``FutureWarning`` where the installed scikit-learn deprecates that (1.9: an error from 1.11), as
    before where it does not (1.6)."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.utils.validation import _deprecate_positional_args

    kind = inspect.signature(LogisticRegressionCV.score).parameters["sample_weight"].kind
    if kind is inspect.Parameter.KEYWORD_ONLY:
        return _deprecate_positional_args(score, version="1.11")

    @functools.wraps(score)
    def positional(self, X, y, sample_weight=None, **score_params):
        return score(self, X, y, sample_weight=sample_weight, **score_params)

    return positional


def ill_conditioned_words(rcond):
    """What the installed SciPy's ``linalg.solve`` warns of a matrix with reciprocal condition ``rcond`` below eps,
    the words scikit-learn's newton-cholesky quotes: SciPy 1.17 reports it per slice of its batched solve."""
    import scipy

    if parse_version(scipy.__version__).release >= (1, 17):
        return f"An ill-conditioned matrix detected: slice 0 has rcond = {rcond}."
    return f"Ill-conditioned matrix (rcond={rcond:.6g}): result may not be accurate."


@functools.cache
def warns_of_many_classes():
    """Whether this scikit-learn's ``check_classification_targets`` warns of more classes than half the samples
    (a "regression target?" warning that scikit-learn 1.6 does not give): torchlogit gives it when it does."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_classification_targets(np.arange(22))  # 22 samples of 22 classes
    return any("50%" in str(w.message) for w in caught)


def _array_api_dispatch_available():
    import scipy
    from sklearn.utils import _array_api

    scipy_ok = parse_version(scipy.__version__).release >= (1, 14)
    return scipy_ok and all(hasattr(_array_api, name) for name in ("move_to", "check_same_namespace"))


ARRAY_API_DISPATCH_AVAILABLE = _array_api_dispatch_available()
