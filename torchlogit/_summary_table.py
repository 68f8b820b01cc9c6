"""What ``summary()`` returns: a DataFrame of coefficients that prints like statsmodels' summary.

The model statistics (observations, log-likelihoods, pseudo R-squared, LLR p-value,
degrees of freedom, convergence) are in ``table.attrs``; printing the table shows them
above the coefficients, with p-values that never read ``0.0``. Anything derived from the
table (a column, a slice, ``round``) is a plain DataFrame.
"""

import numpy as np
import pandas as pd


def _count(value):
    """A count (observations, residual degrees of freedom) in full: ``{:g}`` printed 1234567 as 1.23457e+06."""
    value = float(value)
    return f"{value:.0f}" if value.is_integer() else f"{value:.6g}"  # weighted counts need not be whole


def _level(alpha):
    """The intervals' confidence level (statsmodels puts it in the column names: [0.025 0.975])."""
    return f"{100 * (1 - float(alpha)):g}%"


def _llr_p_value(p):
    """statsmodels' ``%#8.4g`` (0.001502, not the coefficients' 0.002), never a bare zero."""
    return format_p_value(p) if not np.isfinite(p) or p == 0 else f"{p:#.4g}"


# (label, attrs key, formatting function) of the header, in two columns as statsmodels lays them out.
LEFT = [
    ("Model:", "model", "{}".format),
    ("Method:", "method", "{}".format),
    ("Covariance Type:", "cov_type", "{}".format),
    ("converged:", "converged", "{}".format),
    ("Reference class:", "reference_class", "{}".format),
    ("Conf. Int.:", "alpha", _level),
]
RIGHT = [
    ("No. Observations:", "nobs", _count),
    ("Df Residuals:", "df_resid", _count),
    ("Df Model:", "df_model", "{:g}".format),
    ("Pseudo R-squ.:", "prsquared", "{:#.4g}".format),
    ("Log-Likelihood:", "llf", "{:#.5g}".format),
    ("LL-Null:", "llnull", "{:#.5g}".format),
    ("LLR p-value:", "llr_pvalue", _llr_p_value),
]


def format_p_value(p):
    """statsmodels-style: fixed 3 decimals when readable, scientific when small, never a bare zero."""
    if not np.isfinite(p):
        return "nan"
    if p == 0:
        return f"<{np.finfo(float).smallest_subnormal:.0e}"  # underflowed: below the smallest double
    if p < 1e-3:
        return f"{p:.3g}"
    return f"{p:.3f}"


def _forg(v):
    """statsmodels' ``forg(v, prec=4)`` (its ``summary()`` table): four decimals, or four significant digits below
    1e-4 and from 1e4 on, so that a coefficient of 1.2e-5 (an income in units) does not print as 0.0000."""
    return f"{v:.4g}" if abs(v) >= 1e4 or abs(v) < 1e-4 else f"{v:.4f}"


class SummaryTable(pd.DataFrame):
    """A summary's coefficient table; ``print`` shows the model statistics of ``attrs`` above it."""

    @property
    def _constructor(self):
        return pd.DataFrame

    def as_text(self):
        """The statsmodels-like text: the model statistics, then the coefficient table."""
        attrs = self.attrs
        left = [(label, fmt(attrs[key])) for label, key, fmt in LEFT if key in attrs]
        right = [(label, fmt(attrs[key])) for label, key, fmt in RIGHT if key in attrs]
        rows = max(len(left), len(right))
        left += [("", "")] * (rows - len(left))
        right += [("", "")] * (rows - len(right))
        # As narrow as the content allows, so that the printout fits a notebook cell.
        wa, wb = (max(len(row[i]) for row in left) for i in (0, 1))
        wc, wd = (max(len(row[i]) for row in right) for i in (0, 1))
        header = [f"{a:<{wa}} {b:>{wb}}   {c:<{wc}} {d:>{wd}}" for (a, b), (c, d) in zip(left, right, strict=True)]
        body = pd.DataFrame(self).copy()
        formatted = {
            column: [
                format_p_value(v) if column == "p_value" else (_forg(v) if np.isfinite(v) else "nan")
                for v in body[column]
            ]
            for column in body.columns
        }
        table = pd.DataFrame(formatted, index=body.index).to_string()
        width = max(len(line) for line in header + table.splitlines())
        title = f"{attrs.get('model', 'Logit')} Regression Results".center(width)
        return "\n".join([title, "=" * width, *header, "=" * width, table, "=" * width])

    def __repr__(self):
        return self.as_text()

    def _repr_html_(self):
        return "<pre>" + self.as_text().replace("&", "&amp;").replace("<", "&lt;") + "</pre>"
