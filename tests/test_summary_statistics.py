"""summary()'s model statistics (nobs, log-likelihoods, pseudo R², LLR p-value, df, converged) and its text.

References: statsmodels' ``Logit`` and ``MNLogit`` results on the same data, to 1e-8 (relative); the
null log-likelihood of a multi-label model is the sum of one intercept-only Logit per label.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import statsmodels
import statsmodels.api as sm
import torch
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning

from torchlogit import InferenceWarning, TorchLogisticClassifier, TorchMultiLabelClassifier
from torchlogit._summary_table import format_p_value

TIGHT = dict(C=np.inf, dtype="float64", tol=1e-10, max_iter=1000)
STATS = ["nobs", "llf", "llnull", "prsquared", "llr_pvalue", "df_model", "df_resid", "aic", "bic"]


@pytest.fixture(scope="module")
def spector():
    data = sm.datasets.spector.load_pandas()
    return data.exog, data.endog.astype(int)


@pytest.fixture(scope="module")
def anes96():
    data = sm.datasets.anes96.load_pandas()
    X = data.exog[["logpopul", "selfLR", "age", "educ", "income"]]
    return (X - X.mean()) / X.std(), data.endog.astype(int)


def assert_matches(table, reference):
    for key in STATS:
        ours, theirs = table.attrs[key], getattr(reference, key)
        if key == "llr_pvalue":
            # p ~ 1e-100 moves by a factor exp(-LLR/2 * error): statsmodels' llnull is an iterative fit
            # (ours is closed form), so the p-values are compared on the log scale
            ours, theirs = np.log(ours), np.log(theirs)
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, err_msg=key)
        assert type(table.attrs[key]) is float, key  # plain floats, as documented (bic was an np.float64)
    assert table.attrs["converged"] is True


def test_binary_statistics_equal_statsmodels_logit(spector):
    X, y = spector
    table = TorchLogisticClassifier(**TIGHT).fit(X, y).summary(X, y)
    reference = sm.Logit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-12)
    assert_matches(table, reference)
    assert table.attrs["model"] == "Logit" and table.attrs["method"] == "MLE"


def test_multinomial_statistics_equal_statsmodels_mnlogit(anes96):
    X, y = anes96
    table = TorchLogisticClassifier(**TIGHT).fit(X, y).summary(X, y)
    reference = sm.MNLogit(y, sm.add_constant(X)).fit(disp=0, method="newton", maxiter=100, tol=1e-12)
    assert_matches(table, reference)
    assert table.attrs["model"] == "MNLogit"


def test_frequency_weights_count_as_repeated_rows(spector):
    X, y = spector
    weight = np.tile([1, 2, 3], len(y))[: len(y)]
    table = TorchLogisticClassifier(**TIGHT).fit(X, y, sample_weight=weight).summary(X, y, sample_weight=weight)
    repeated = np.repeat(np.arange(len(y)), weight)
    reference = sm.Logit(y.iloc[repeated], sm.add_constant(X.iloc[repeated])).fit(disp=0, method="newton", tol=1e-12)
    assert_matches(table, reference)


def test_multilabel_null_likelihood_sums_the_labels():
    X, Y = make_multilabel_classification(n_samples=300, n_features=4, n_classes=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # finite-C inference warning is not what this test is about
        table = TorchMultiLabelClassifier(**TIGHT).fit(X, Y).summary(X, Y)
    per_label = [sm.Logit(Y[:, j], sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-12) for j in range(3)]
    np.testing.assert_allclose(table.attrs["llf"], sum(r.llf for r in per_label), rtol=1e-8)
    np.testing.assert_allclose(table.attrs["llnull"], sum(r.llnull for r in per_label), rtol=1e-8)
    assert table.attrs["df_model"] == 3 * 4 and table.attrs["df_resid"] == 300 - 3 * 5
    for criterion in ("aic", "bic"):  # the labels' own, summed (their parameters and log-likelihoods add up)
        np.testing.assert_allclose(table.attrs[criterion], sum(getattr(r, criterion) for r in per_label), rtol=1e-8)


def test_sample_weights_summing_below_the_parameters_are_warned_about(spector):
    """Weights normalised to sum to 1 (a scikit-learn habit) are frequencies here, as statsmodels' freq_weights: one
    observation for four parameters, every standard error sqrt(32) times the unit weights' and Df Residuals -3,
    silently. A warning says so; weights summing to at least the parameters (half of the rows) give none."""
    X, y = spector
    model = TorchLogisticClassifier(**TIGHT).fit(X, y)
    unit = model.summary(X, y)
    with pytest.warns(InferenceWarning, match="sample_weight sums to 1 over 32 rows, fewer observations than the 4"):
        rescaled = model.summary(X, y, sample_weight=np.full(32, 1 / 32))
    assert rescaled.attrs["df_resid"] == -3
    with pytest.warns(InferenceWarning, match="sample_weight sums to 1 over 32 rows"):  # CPU tensors too
        as_tensors = model.summary(
            torch.as_tensor(X.to_numpy()), torch.as_tensor(y.to_numpy()), sample_weight=torch.full((32,), 1 / 32)
        )
    assert as_tensors.attrs["aic"] == rescaled.attrs["aic"] and as_tensors.attrs["bic"] == rescaled.attrs["bic"]
    np.testing.assert_allclose(rescaled["std_err"], unit["std_err"] * np.sqrt(32), rtol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InferenceWarning)
        assert model.summary(X, y, sample_weight=np.full(32, 0.5)).attrs["df_resid"] == 12


def test_text_rendering_shows_statistics_and_no_zero_p_values(spector):
    X, y = spector
    table = TorchLogisticClassifier(**TIGHT).fit(X, y).summary(X, y)
    text = str(table)
    for label in [
        "No. Observations:",
        "Log-Likelihood:",
        "LL-Null:",
        "Pseudo R-squ.:",
        "LLR p-value:",
        "Df Model:",
        "Df Residuals:",
        "converged:",
    ]:
        assert label in text, label
    assert f"{table.attrs['llf']:.5g}" in text
    assert isinstance(table[["coef"]], pd.DataFrame) and not hasattr(table[["coef"]], "as_text")


@pytest.mark.parametrize("data", ["spector", "weak"])
def test_header_statistics_print_as_statsmodels_prints_them(data, spector):
    """Pseudo R-squ. (statsmodels' ``%#6.4g``), Log-Likelihood and LL-Null (``%#8.5g``) print the digits statsmodels
    prints (h4): a weak model's pseudo R-squared printed 0.0005 (four decimals) for statsmodels' 0.0005356, and a
    log-likelihood lost its trailing zeros."""
    if data == "spector":
        X, y = spector
    else:
        rng = np.random.default_rng(1)
        X = pd.DataFrame({"x": rng.standard_normal(500)})
        y = pd.Series((0.1 * X["x"] + rng.logistic(size=500) > 0).astype(int), name="y")
    text = TorchLogisticClassifier(**TIGHT).fit(X, y).summary(X, y).as_text()
    reference = str(sm.Logit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-12).summary())
    for label in ("Pseudo R-squ.:", "Log-Likelihood:", "LL-Null:"):
        pattern = re.escape(label) + r"\s+(\S+)"
        assert re.search(pattern, text).group(1) == re.search(pattern, reference).group(1), label


@pytest.mark.parametrize(
    "p, text", [(0.0, "<5e-324"), (3.2e-300, "3.2e-300"), (4.5e-4, "0.00045"), (0.0412, "0.041"), (0.5, "0.500")]
)
def test_p_values_never_print_as_zero(p, text):
    assert format_p_value(p) == text


def test_each_estimator_documents_its_own_summary():
    """TorchLogisticClassifier's summary() docs describe class labels, not the multi-label sibling's shapes."""
    assert "n_labels" not in TorchLogisticClassifier.summary.__doc__
    assert "pos_weight" not in TorchLogisticClassifier.summary.__doc__
    assert "n_labels" in TorchMultiLabelClassifier.summary.__doc__
    for name in ("predict_proba", "decision_function", "score", "predict_log_proba"):
        assert "n_labels" not in getattr(TorchLogisticClassifier, name).__doc__, name
        assert "label" in getattr(TorchMultiLabelClassifier, name).__doc__, name


def test_without_an_intercept_df_model_counts_the_parameters_statsmodels_one_fewer(spector):
    """statsmodels' df_model is rank - 1 whether or not the model has a constant (its code assumes one); ours
    counts the parameters, and llr_pvalue follows. Every other statistic still equals statsmodels'."""
    X, y = spector
    table = TorchLogisticClassifier(fit_intercept=False, **TIGHT).fit(X, y).summary(X, y)
    reference = sm.Logit(y, X).fit(disp=0, method="newton", tol=1e-12)
    assert table.attrs["df_model"] == X.shape[1] == reference.df_model + 1
    for name in ("llf", "llnull", "df_resid"):
        assert table.attrs[name] == pytest.approx(getattr(reference, name), rel=1e-8)


def test_labels_of_another_type_than_the_fit_get_a_value_error(spector):
    X, y = spector
    model = TorchLogisticClassifier(**TIGHT).fit(X, y)
    with pytest.raises(ValueError, match="labels of another type"):
        model.summary(X, np.array([None] * len(y), dtype=object))


def test_the_far_from_optimum_warning_names_other_data_as_a_cause(spector):
    """summary() on other weights than the fit's: the fitted coef_ is not their optimum, and the warning says
    that this, not only an early stop, can be why."""
    X, y = spector
    model = TorchLogisticClassifier(**TIGHT).fit(X, y)
    weights = np.linspace(0.2, 3.0, len(y))
    with pytest.warns(Warning, match="or these are not the data and sample_weight it was fitted on"):
        model.summary(X, y, sample_weight=weights)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "HC1"])
def test_a_separable_label_leaves_the_other_labels_standard_errors_those_of_separate_logits(cov_type):
    """Labels are independent models: one separated by a feature (no finite optimum) gets NaN in its own rows,
    named in the warning; every other label's rows equal a separate statsmodels Logit on that label (they
    were all NaN)."""
    X, Y = make_multilabel_classification(n_samples=300, n_features=4, n_classes=3, random_state=0)
    X = (X - X.mean(0)) / X.std(0)
    Y[:, 2] = X[:, 0] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = TorchMultiLabelClassifier(**TIGHT).fit(X, Y)
    with pytest.warns(Warning, match="Label 2: "):
        table = model.summary(X, Y, cov_type=cov_type)
    assert table.loc[2]["std_err"].isna().all()
    for label in (0, 1):
        robust = "nonrobust" if cov_type == "nonrobust" else "HC0"
        logit = sm.Logit(Y[:, label], sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-12, cov_type=robust)
        expected = np.asarray(logit.bse)
        if cov_type == "HC1":  # statsmodels' discrete HC1 is HC0 (issue 7798): the n / (n - k) factor by hand
            expected = expected * np.sqrt(len(Y) / (len(Y) - X.shape[1] - 1))
        np.testing.assert_allclose(table.loc[label]["coef"], logit.params, rtol=1e-6)
        np.testing.assert_allclose(table.loc[label]["std_err"], expected, rtol=1e-6)


def test_the_notebook_view_is_the_text_escaped_once():
    """_repr_html_ is the printed text in <pre>, HTML-escaped once: an underflowed p-value reads '<5e-324' in a
    notebook (escaping '<' before '&' showed '&lt;5e-324')."""
    import html

    rng = np.random.RandomState(0)
    X = rng.randn(5000, 2)
    y = (5 * X[:, 0] + rng.logistic(size=5000) > 0).astype(int)
    table = TorchLogisticClassifier(**TIGHT).fit(X, y).summary(X, y)
    assert "<5e-324" in table.as_text()  # the LLR p-value and x0's underflow
    shown = table._repr_html_()
    assert "<" not in shown.removeprefix("<pre>").removesuffix("</pre>")
    assert html.unescape(shown) == "<pre>" + table.as_text() + "</pre>"


def test_a_label_without_an_optimum_makes_the_multilabel_summary_unconverged():
    """converged (statsmodels' mle_retvals['converged']) is False when any label's Newton found no optimum: that
    label's rows are NaN, and the header must not say the model converged."""
    X, Y = make_multilabel_classification(n_samples=300, n_features=4, n_classes=3, random_state=0)
    X = (X - X.mean(0)) / X.std(0)
    Y[:, 2] = X[:, 0] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = TorchMultiLabelClassifier(**TIGHT).fit(X, Y)
        table = model.summary(X, Y)
    assert table.loc[2]["std_err"].isna().all()
    assert table.attrs["converged"] is False


# --- review of stop 40: statsmodels' habits and edge cases of the statistics


def test_an_add_constant_column_is_the_intercept_of_a_model_fitted_without_one(spector, anes96):
    """``sm.add_constant(X)`` with fit_intercept=False is statsmodels' own model: the constant column was counted as
    a slope (df_model 4 against 3, llr_pvalue 0.0039 against 0.0015)."""
    X, y = spector
    Xc = sm.add_constant(X)
    table = TorchLogisticClassifier(fit_intercept=False, **TIGHT).fit(Xc, y).summary(Xc, y)
    assert_matches(table, sm.Logit(y, Xc).fit(disp=0, method="newton", tol=1e-12))
    Xa, ya = anes96
    Xa = sm.add_constant(Xa)
    table = TorchLogisticClassifier(fit_intercept=False, **TIGHT).fit(Xa, ya).summary(Xa, ya)
    assert_matches(table, sm.MNLogit(ya, Xa).fit(disp=0, method="newton", maxiter=100, tol=1e-12))


def test_dummies_of_every_level_are_the_intercept_of_a_model_fitted_without_one(spector, anes96):
    """One-hot dummies of every level of a factor sum to one in every row: a model fitted on them without an
    intercept has one (statsmodels' implicit constant, k_constant = 1). It was counted as slopes (binary: df_model 5
    against 4, llr_pvalue 1.8e-4 against 6.5e-5); dense and sparse X alike."""
    import scipy.sparse as sp

    X, y = spector
    Xd = X[["GPA", "TUCE"]].assign(psi=X["PSI"], no_psi=1.0 - X["PSI"])
    reference = sm.Logit(y, Xd).fit(disp=0, method="newton", tol=1e-12)
    assert reference.model.k_constant == 1
    model = TorchLogisticClassifier(fit_intercept=False, **TIGHT).fit(Xd, y)
    assert_matches(model.summary(Xd, y), reference)
    Xs = sp.csr_matrix(Xd.to_numpy())
    assert model.fit(Xs, y).summary(Xs, y).attrs["df_model"] == reference.df_model == 3
    import torch

    Xt, yt = torch.tensor(Xd.to_numpy()), torch.tensor(y.to_numpy())  # CPU tensors: the same rule
    assert model.fit(Xt, yt).summary(Xt, yt).attrs["df_model"] == 3
    Xa, ya = anes96
    levels = pd.get_dummies(pd.qcut(Xa["age"], 3, labels=["young", "middle", "old"]), dtype=float)
    Xl = pd.concat([Xa.drop(columns="age"), levels], axis=1)
    reference = sm.MNLogit(ya, Xl).fit(disp=0, method="newton", maxiter=100, tol=1e-12)
    table = TorchLogisticClassifier(fit_intercept=False, **TIGHT).fit(Xl, ya).summary(Xl, ya)
    assert_matches(table, reference)


def test_a_constant_column_beside_the_intercept_is_named_in_the_warning(spector):
    X, y = spector
    Xc = sm.add_constant(X)
    model = TorchLogisticClassifier(**TIGHT).fit(Xc, y)
    with pytest.warns(UserWarning, match=r"Column\(s\) \['const'\] are constant, as the intercept is") as record:
        model.summary(Xc, y)
    assert record[0].filename == __file__


def test_a_column_of_zeros_is_not_taken_for_a_constant(spector):
    """statsmodels' k_constant counts a column holding one non-zero value in every row; a column of zeros is a
    (degenerate) slope, not an intercept (seeded bug 170: it was counted as the intercept of a model fitted without
    one, and named as a constant column beside the intercept). It adds nothing to the design's rank, so it is no
    degree of freedom: df_model 3 with or without the intercept, statsmodels' 3 with its constant."""
    X, y = spector
    Xz = X.assign(zero=0.0)
    assert sm.Logit(y, Xz).k_constant == 0 and sm.Logit(y, sm.add_constant(Xz)).df_model == 3
    df_model = []
    for fit_intercept in (True, False):
        model = TorchLogisticClassifier(fit_intercept=fit_intercept, **TIGHT).fit(Xz, y)
        with pytest.warns(UserWarning, match="singular or ill-conditioned") as record:
            df_model.append(model.summary(Xz, y).attrs["df_model"])
        assert not any("are constant" in str(w.message) for w in record)
    assert df_model == [3, 3]  # three slopes of rank, with or without the intercept


def test_the_printout_shows_counts_in_full_the_llr_p_value_in_four_digits_and_the_level(spector):
    X, y = spector
    weight = np.full(len(y), 40_000.0)  # 1,280,000 observations: {:g} printed 1.28e+06
    table = TorchLogisticClassifier(**TIGHT).fit(X, y).summary(X, y, sample_weight=weight, alpha=0.1)
    text = table.as_text()
    assert "1280000" in text and f"{1280000 - 4}" in text
    unweighted = TorchLogisticClassifier(**TIGHT).fit(X, y).summary(X, y)
    assert "0.001502" in unweighted.as_text()  # statsmodels' %#8.4g; the coefficients' format printed 0.002
    assert "Conf. Int.:" in text and "90%" in text and "95%" in unweighted.as_text()


def test_a_weighted_count_that_is_not_whole_is_printed_as_it_is(spector):
    """Sample weights need not sum to a whole number: 31.5 weighted observations and 27.5 residual degrees of freedom
    (the attrs' values) were printed rounded, as 32 and 28, in the table's header."""
    X, y = spector
    weight = np.ones(len(y))
    weight[0] = 0.5
    table = TorchLogisticClassifier(**TIGHT).fit(X, y, sample_weight=weight).summary(X, y, sample_weight=weight)
    assert (table.attrs["nobs"], table.attrs["df_resid"]) == (31.5, 27.5)
    text = table.as_text()
    assert re.search(r"No\. Observations:\s+31\.5\s", text) and re.search(r"Df Residuals:\s+27\.5\s", text), text


def test_a_class_whose_rows_all_weigh_zero_is_refused(anes96, spector):
    """Weights 0 are dropped rows: such a class's coefficients have no estimate (every standard error was NaN, with
    a warning about separable or collinear data) and llnull was NaN with NumPy's warning; a binary y left with one
    class of positive weight is refused as y with one class is."""
    X, y = anes96
    model = TorchLogisticClassifier(**TIGHT).fit(X, y)
    with pytest.raises(ValueError, match="class 6 has none, so its coefficients have no estimate"):
        model.summary(X, y, sample_weight=np.where(y == 6, 0.0, 1.0))
    Xs, ys = spector
    binary = TorchLogisticClassifier(**TIGHT).fit(Xs, ys)
    with pytest.raises(ValueError, match="at least two classes among the rows of positive sample_weight; got only 0"):
        binary.summary(Xs, ys, sample_weight=(ys == 0).astype(float))


def test_rows_of_weight_zero_add_nothing_to_llnull():
    """A multi-label label whose positive rows all weigh 0: xlogy(w y, share), not w xlogy(y, share) (NaN)."""
    X, Y = make_multilabel_classification(n_samples=200, n_features=4, n_classes=3, random_state=0)
    weight = np.where(Y[:, 0] == 1, 0.0, 1.0)
    keep = weight > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the model is not this weighted data's optimum; label 0 off
        warnings.simplefilter("error", RuntimeWarning)
        table = TorchMultiLabelClassifier(**TIGHT).fit(X, Y).summary(X, Y, sample_weight=weight)
    share = Y[keep].mean(axis=0)
    expected = sum(
        np.sum(Y[keep, j] * np.log(share[j]) + (1 - Y[keep, j]) * np.log(1 - share[j])) if 0 < share[j] < 1 else 0.0
        for j in range(3)
    )
    assert table.attrs["llnull"] == pytest.approx(expected, rel=1e-10)


def test_multilabel_hc1_counts_the_parameters_of_one_label():
    """Each label is a Logit of its own (its HC1 factor uses its own k): 25 labels of 11 parameters on 200 rows were
    refused as if k were 275."""
    X, Y = make_multilabel_classification(n_samples=200, n_features=10, n_classes=25, random_state=0)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    keep = (Y.min(axis=0) == 0) & (Y.max(axis=0) == 1)
    model = TorchMultiLabelClassifier(**TIGHT).fit(X, Y[:, keep])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hc0 = model.summary(X, Y[:, keep], cov_type="HC0")
        hc1 = model.summary(X, Y[:, keep], cov_type="HC1")
    measured = hc0["std_err"].notna()  # a label the features separate has no standard errors
    assert measured.sum() >= 10 * 11
    np.testing.assert_allclose((hc1["std_err"] / hc0["std_err"])[measured], np.sqrt(200 / 189), rtol=1e-10)


@pytest.mark.parametrize("value", [0, 1])
def test_a_label_constant_in_y_is_named_where_summary_was_called(value):
    X, Y = make_multilabel_classification(n_samples=200, n_features=3, n_classes=3, random_state=0)
    Y[:, 2] = value
    model = TorchMultiLabelClassifier(**TIGHT).fit(X, Y)
    with pytest.warns(UserWarning, match=f"Label 2 \\(2\\) is {['never', 'always'][value]} on in y") as record:
        table = model.summary(X, Y)
    assert all(w.filename == __file__ for w in record)
    assert table.loc[2]["std_err"].isna().all() and table.loc[0]["std_err"].notna().all()


def test_a_feature_called_intercept_keeps_the_rows_apart(spector):
    X, y = spector
    X = X.rename(columns={"TUCE": "intercept"})
    table = TorchLogisticClassifier(**TIGHT).fit(X, y).summary(X, y)
    assert list(table.index) == ["_intercept", "GPA", "intercept", "PSI"]
    assert table.loc["intercept", "coef"] == pytest.approx(
        sm.Logit(y, sm.add_constant(X)).fit(disp=0).params["intercept"], rel=1e-5
    )


def test_the_printed_table_formats_numbers_as_statsmodels_summary(spector):
    """statsmodels' ``forg(v, prec=4)``: a coefficient of an unscaled feature (an income in units: 1.2e-5) printed
    as 0.0000 beside a z of 7.9; four significant digits below 1e-4 and from 1e4 on, four decimals between."""
    from statsmodels.iolib.summary import forg

    from torchlogit._summary_table import _forg

    for v in (1.174e-5, -3e-7, 0.0, 0.0438, -87.4301, 9999.99999, 12345.6, 1e-4, -1e4):
        assert _forg(v) == forg(v, prec=4).strip(), v
    X, y = spector
    for scale, printed in ((1e6, "e-06"), (1e-6, "e+06")):  # GPA's coefficient (2.83) becomes 2.8e-6 or 2.8e6
        Xs = X.assign(GPA=X["GPA"] * scale)
        table = TorchLogisticClassifier(**TIGHT).fit(Xs, y).summary(Xs, y)
        row = next(line for line in table.as_text().splitlines() if line.startswith("GPA")).split()
        assert row[1] == forg(table.loc["GPA", "coef"], prec=4).strip() and row[1].endswith(printed)
        assert row[2] == forg(table.loc["GPA", "std_err"], prec=4).strip()


def test_a_singular_hessian_says_the_statistics_are_the_fits(spector):
    """With no verified maximum (a singular Hessian), the coefficients and the likelihood statistics come from the
    fit, not from a maximum: the warning said only that the standard errors are NaN."""
    X, y = spector
    Xd = X.assign(GPA2=X["GPA"])  # a duplicate column: the Hessian is singular
    model = TorchLogisticClassifier(**TIGHT).fit(Xd, y)
    with pytest.warns(UserWarning, match="singular or ill-conditioned.*statistics from it .* are the fit's") as record:
        table = model.summary(Xd, y)
    assert record[0].filename == __file__
    assert table["std_err"].isna().all() and np.isfinite(table.attrs["llf"])


def test_a_hessian_that_overflows_says_so_and_how_to_rescale(spector):
    """Features of 1e200: the fit is right, but the Hessian's entries (sums of squared features) overflow float64.
    The warning blamed separation or collinearity ("singular or ill-conditioned"); it names the overflow and the
    remedy, which gives the same z (at 1e150 the table is that of the unscaled features)."""
    X, y = spector
    Xn = X.to_numpy()
    reference = TorchLogisticClassifier(**TIGHT).fit(Xn, y).summary(Xn, y)
    for scale in (1e150, 1e200):
        Xs = Xn * scale
        model = TorchLogisticClassifier(**TIGHT).fit(Xs, y)
        if scale == 1e150:
            np.testing.assert_allclose(model.summary(Xs, y)["z"], reference["z"], rtol=1e-6)
            continue
        with pytest.warns(UserWarning, match="overflowed float64.*Divide such features by a power of ten") as record:
            table = model.summary(Xs, y)
        assert not any("singular" in str(w.message) for w in record)
        assert table["z"].isna().all()


def test_the_printed_header_shows_each_statistic_under_its_own_label(spector):
    """Each header value is the attrs entry its label names (Df Model is df_model, not df_resid), as statsmodels
    prints them."""
    X, y = spector
    table = TorchLogisticClassifier(**TIGHT).fit(X, y).summary(X, y)
    text = table.as_text()
    reference = sm.Logit(y, sm.add_constant(X)).fit(disp=0)
    shown = {
        label: re.search(re.escape(label) + r"\s+(\S+)", text).group(1)
        for label in ("No. Observations:", "Df Residuals:", "Df Model:")
    }
    assert shown == {"No. Observations:": "32", "Df Residuals:": "28", "Df Model:": "3"}
    assert float(shown["Df Model:"]) == reference.df_model and float(shown["Df Residuals:"]) == reference.df_resid


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_degrees_of_freedom_count_the_designs_rank_as_statsmodels_does(n_classes, sparse):
    """A column that is a combination of others (x5 = x1 + x2) adds no degree of freedom: statsmodels counts the
    rank of its exog. Ours counted the columns (binary: df_model 5 against 4, llr_pvalue 0.0025 against 0.0011);
    columns in other units than the rest (1e3, 1e-2) keep their rank."""
    import scipy.sparse as sp
    from scipy.stats import chi2

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)) * np.array([1.0, 1e3, 1.0, 1e-2])
    X = np.c_[X, X[:, 0] + X[:, 1]]
    y = (X[:, 0] + rng.logistic(size=200) > 0).astype(int) if n_classes == 2 else rng.integers(0, 3, 200)
    model_class = sm.Logit if n_classes == 2 else sm.MNLogit
    # [1, X] has rank 5 (by SVD); statsmodels 0.15 counts it so, 0.14.0 (the floor of the test extra) counted all 6
    # columns (its QR was not pivoted then).
    assert np.linalg.matrix_rank(sm.add_constant(X)) == 5
    expected = (4.0 * (n_classes - 1), 200.0 - 5 * (n_classes - 1))
    reference = model_class(y, sm.add_constant(X))
    assert (reference.df_model, reference.df_resid) == expected or statsmodels.__version__ == "0.14.0"
    X_in = sp.csr_matrix(X) if sparse else X
    model = TorchLogisticClassifier(C=1e4, dtype="float64", tol=1e-10, max_iter=1000).fit(X_in, y)
    attrs = model.summary(X_in, y).attrs
    assert (attrs["df_model"], attrs["df_resid"]) == expected
    assert attrs["llr_pvalue"] == pytest.approx(chi2.sf(attrs["llr"], expected[0]), rel=1e-12)
    independent = model.fit(X_in[:, :4], y).summary(X_in[:, :4], y).attrs
    assert independent["df_model"] == model_class(y, sm.add_constant(X[:, :4])).df_model


def test_more_features_than_rows_leave_no_residual_degrees_of_freedom(spector):
    """p > n: statsmodels' df_resid is nobs - rank, 0 here; ours was nobs - p, negative (-21)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 40))
    y = np.r_[np.zeros(10), np.ones(10)].astype(int)
    reference = sm.Logit(y, sm.add_constant(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        attrs = TorchLogisticClassifier(dtype="float64").fit(X, y).summary(X, y).attrs
    assert (attrs["df_model"], attrs["df_resid"]) == (reference.df_model, reference.df_resid) == (19.0, 0.0)


def test_rows_of_weight_zero_are_left_out_of_the_designs_rank_and_constants(spector):
    """Weights are repeated rows: a row of weight 0 is a row left out. Three columns collinear among the counted
    rows (x3 = x1 + x2 there) give the degrees of freedom of those rows alone, and a column constant among them
    is the constant of a model fitted without an intercept, whatever the dropped rows hold."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] + rng.logistic(size=120) > 0).astype(int)
    X[:100, 2] = X[:100, 0] + X[:100, 1]
    weight = np.r_[np.ones(100), np.zeros(20)]
    model = TorchLogisticClassifier(C=1e4, dtype="float64", tol=1e-10, max_iter=1000)
    attrs = model.fit(X, y, sample_weight=weight).summary(X, y, sample_weight=weight).attrs
    reference = sm.Logit(y[:100], sm.add_constant(X[:100]))
    assert (attrs["df_model"], attrs["df_resid"]) == (reference.df_model, reference.df_resid) == (2.0, 97.0)
    Xc = np.c_[X[:, :2], np.r_[np.ones(100), rng.normal(size=20)]]
    no_intercept = TorchLogisticClassifier(fit_intercept=False, C=1e4, dtype="float64", tol=1e-10, max_iter=1000)
    attrs = no_intercept.fit(Xc, y, sample_weight=weight).summary(Xc, y, sample_weight=weight).attrs
    assert sm.Logit(y[:100], Xc[:100]).k_constant == 1
    assert (attrs["df_model"], attrs["df_resid"]) == (2.0, 97.0)


# Mutation survey h3 (stop 50).
@pytest.mark.parametrize("case", ["float32 total column", "twin at 1e-9"])
def test_near_collinear_columns_keep_statsmodels_rank(case):
    """Found by h3 (stop 50): read off the Gram matrix alone, which squares the condition number, columns
    independent to 1e-8 relative (x3 = x1 + x2 summed in float32; a column and its twin plus 1e-9 noise) lost a
    degree of freedom that statsmodels' pivoted QR of exog keeps: df_model 2 against 3 (float32 case), llr_pvalue
    0.59 against 0.79. The Gram's small directions are measured on X itself now."""
    rng = np.random.default_rng(0)
    n = 300
    if case == "float32 total column":
        Z = rng.normal(size=(n, 2)).astype(np.float32)
        X = np.c_[Z, Z[:, 0] + Z[:, 1]].astype(np.float32)
    else:
        x = rng.normal(size=n)
        X = np.c_[x, x + 1e-9 * rng.normal(size=n)]
    y = (X[:, 0] + rng.logistic(size=n) > 0).astype(int)
    reference = sm.Logit(y, sm.add_constant(np.asarray(X, dtype=np.float64)))
    model = TorchLogisticClassifier(C=1e4, dtype="float64", tol=1e-8, max_iter=300).fit(X, y)
    attrs = model.summary(X, y).attrs
    assert (attrs["df_model"], attrs["df_resid"]) == (reference.df_model, reference.df_resid)


def test_design_ranks_scale_a_column_of_negatives_and_zeros():
    """Mutant i1 (_inference.design_ranks: scale = X.max(axis=0), the -X.min dropped): a column of values <= 0
    (max 0) is then left unscaled, and at -1e200 its Gram entry overflows (inf: a LinAlgError or a wrong rank)."""
    from torchlogit._inference import design_ranks

    rng = np.random.default_rng(0)
    x = rng.normal(size=50)
    X = np.c_[np.minimum(x, 0.0) * 1e200, rng.normal(size=50)]
    assert design_ranks(X) == (2, 3)
    assert design_ranks(np.c_[X, X[:, 0] + X[:, 1]]) == (2, 3)


@pytest.mark.parametrize("n_rows", [50, 51])
@pytest.mark.parametrize("sparse", [False, True])
def test_design_ranks_add_up_every_chunk_of_rows(n_rows, sparse, monkeypatch):
    """Mutants i7 / i13 (_inference.design_ranks: `gram = block.T @ block`, `sums = block.sum(0)`: the last chunk of
    rows only). Chunks of 2 rows: the last chunk alone has rank <= 2 and no row count to tell a constant apart.
    Sparse X: its Gram matrix comes in blocks of 2 columns, each of which must land in its place."""
    from torchlogit import _inference

    monkeypatch.setattr(_inference, "CHUNK_VALUES", 6)
    rng = np.random.default_rng(0)
    form = sp.csr_matrix if sparse else np.asarray
    X = rng.normal(size=(n_rows, 3))
    assert _inference.design_ranks(form(X)) == (3, 4)
    dummies = np.eye(3)[np.r_[0, 1, 2, rng.integers(0, 3, n_rows - 3)]]
    assert _inference.design_ranks(form(dummies)) == (3, 3)  # every level's dummy: [1, X] has X's rank
    assert _inference.design_ranks(form(dummies[:, :2])) == (2, 3)
    collinear = np.c_[X[:, :2], X[:, 0] - 2 * X[:, 1]]
    assert _inference.design_ranks(form(collinear)) == (2, 3)


def test_a_column_constant_among_the_rows_of_positive_weight_is_named_in_the_warning():
    """Mutant i10 (_inference.summary: constant_columns(X) instead of the rows of positive weight): a column that is
    1 in every counted row (random only in rows of weight 0) is the intercept's twin, and the hint must name it."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    X[:100, 1] = 1.0
    y = (X[:, 0] + rng.logistic(size=120) > 0).astype(int)
    weight = np.r_[np.ones(100), np.zeros(20)]
    model = TorchLogisticClassifier(C=np.inf, dtype="float64", tol=1e-8, max_iter=300).fit(X, y, sample_weight=weight)
    with pytest.warns(UserWarning, match=r"Column\(s\) \['x1'\] are constant, as the intercept is"):
        model.summary(X, y, sample_weight=weight)


def _table(**attrs):
    from torchlogit._summary_table import SummaryTable

    t = SummaryTable(
        np.array([[1.0, 0.5, 2.0, 0.0455, 0.02, 1.98]]),
        index=pd.Index(["x0"], name="feature"),
        columns=["coef", "std_err", "z", "p_value", "ci_low", "ci_high"],
    )
    t.attrs.update(
        dict(
            model="Logit",
            method="MLE",
            cov_type="nonrobust",
            converged=True,
            alpha=0.05,
            nobs=10.0,
            df_resid=8.0,
            df_model=1.0,
            prsquared=0.1,
            llf=-5.0,
            llnull=-6.0,
            llr_pvalue=0.01,
        )
        | attrs
    )
    return t


def test_multinomial_header_names_the_reference_class():
    """h4's mutant (the "Reference class:" line dropped from the header): a multinomial table names it."""
    assert any(
        line.startswith("Reference class:") and "setosa" in line
        for line in _table(reference_class="setosa").as_text().splitlines()
    )


def test_header_shows_converged_false():
    """h4's mutant (header lines of false values dropped): "converged: False" is printed, when it matters most."""
    assert any(
        line.startswith("converged:") and "False" in line for line in _table(converged=False).as_text().splitlines()
    )
