"""scikit-learn's reference estimators, written in scikit-learn 1.9's spelling, built for the installed release.

The tests and benchmarks compare with ``LogisticRegression`` and ``LogisticRegressionCV`` as
scikit-learn 1.9 spells them; our declared floor is scikit-learn 1.6, which spells them otherwise:

- ``l1_ratio`` alone chooses the penalty from scikit-learn 1.8 on (``penalty`` deprecated).
  Before that, ``penalty`` chooses it and ``l1_ratio`` is read only with ``penalty="elasticnet"``:
  ``LogisticRegression(l1_ratio=1)`` on 1.6 is an L2 fit. :func:`logistic_regression` and
  :func:`logistic_regression_cv` pass the ``penalty`` the ``l1_ratio`` means.
- ``LogisticRegressionCV(use_legacy_attributes=False)`` (scikit-learn 1.8) gives ``C_`` and
  ``l1_ratio_`` as floats and ``scores_``, ``coefs_paths_``, ``n_iter_`` as arrays indexed
  (fold, l1_ratio, C, ...). Before that only the legacy layout exists (dicts keyed by class, one
  C per class); :class:`LegacyAttributesConverted` turns it into the new one after ``fit`` with
  scikit-learn 1.9's own conversion.

Each check is on the feature (a parameter's default, a parameter's presence), not on the version.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV

# scikit-learn >= 1.8: penalty="deprecated" by default, l1_ratio alone says the penalty.
L1_RATIO_CHOOSES_PENALTY = LogisticRegression().get_params()["penalty"] == "deprecated"
# scikit-learn >= 1.8: LogisticRegressionCV(use_legacy_attributes=False).
HAS_NEW_CV_ATTRIBUTES = "use_legacy_attributes" in LogisticRegressionCV().get_params()


def _penalty_for(l1_ratios):
    """The ``penalty`` that means these ``l1_ratio`` values before scikit-learn 1.8 (None: keep them as they are)."""
    if all(r == 0 for r in l1_ratios):
        return "l2"
    if all(r == 1 for r in l1_ratios):
        return "l1"
    return "elasticnet"


def logistic_regression(**params):
    """``LogisticRegression(**params)``, ``params`` in scikit-learn 1.9's spelling (``l1_ratio``, no ``penalty``)."""
    if L1_RATIO_CHOOSES_PENALTY or params.get("l1_ratio") is None:
        return LogisticRegression(**params)
    penalty = _penalty_for([params["l1_ratio"]])
    if penalty != "elasticnet":
        params.pop("l1_ratio")  # scikit-learn < 1.8 warns that it is unused otherwise
    return LogisticRegression(penalty=penalty, **params)


class LegacyAttributesConverted(LogisticRegressionCV):
    """scikit-learn < 1.8's ``LogisticRegressionCV`` with, after ``fit``, the attributes that
    ``use_legacy_attributes=False`` gives in scikit-learn 1.8 and newer (their conversion, copied)."""

    def fit(self, X, y, sample_weight=None, **params):
        super().fit(X, y, sample_weight=sample_weight, **params)
        n_classes = len(self.classes_)
        n_folds = next(iter(self.scores_.values())).shape[0]
        n_cs = self.Cs_.size
        n_dof = self.n_features_in_ + int(self.fit_intercept)
        self.C_ = float(self.C_[0])
        newpaths = np.concatenate(list(self.coefs_paths_.values()))
        newscores = next(iter(self.scores_.values()))  # the same for every class
        newniter = self.n_iter_[0]
        n_l1_ratios = 1 if self.penalty != "elasticnet" else len(self.l1_ratios_)
        n_outputs = 1 if n_classes <= 2 else n_classes
        newpaths = newpaths.reshape(n_outputs, n_folds, n_cs, n_l1_ratios, n_dof)
        newscores = newscores.reshape(n_folds, n_cs, n_l1_ratios)
        newniter = newniter.reshape(n_folds, n_cs, n_l1_ratios)
        if self.penalty == "elasticnet":
            self.l1_ratio_ = float(self.l1_ratio_[0])
        else:
            self.l1_ratio_ = 1.0 if self.penalty == "l1" else 0.0
        # (n_outputs, n_folds, n_cs, n_l1_ratios, n_dof) -> (n_folds, n_l1_ratios, n_cs, n_outputs, n_dof)
        self.coefs_paths_ = np.moveaxis(newpaths, (0, 1, 3), (3, 0, 1))
        self.scores_ = np.moveaxis(newscores, (1, 2), (2, 1))
        self.n_iter_ = np.moveaxis(newniter, (1, 2), (2, 1))
        return self


def logistic_regression_cv(**params):
    """``LogisticRegressionCV(use_legacy_attributes=False, **params)``, ``params`` in scikit-learn 1.9's spelling."""
    if HAS_NEW_CV_ATTRIBUTES:
        return LogisticRegressionCV(use_legacy_attributes=False, **params)
    l1_ratios = params.pop("l1_ratios", None)
    if l1_ratios is None:
        return LegacyAttributesConverted(**params)
    penalty = _penalty_for(l1_ratios)
    if penalty == "elasticnet":
        params["l1_ratios"] = l1_ratios
    return LegacyAttributesConverted(penalty=penalty, **params)
