"""What ``summary()`` returns: a DataFrame of coefficients that prints like statsmodels' summary.

The model statistics (observations, log-likelihoods, pseudo R-squared, LLR p-value,
degrees of freedom, convergence) are in ``table.attrs``; printing the table shows them
above the coefficients, with p-values that never read ``0.0``. Anything derived from the
table (a column, a slice, ``round``) is a plain DataFrame.
"""

import numpy as np
import pandas as pd

# (label, attrs key, format) of the header, in two columns as statsmodels lays them out.
LEFT = [
    ("Model:", "model", "{}"),
    ("Method:", "method", "{}"),
    ("Covariance Type:", "cov_type", "{}"),
    ("converged:", "converged", "{}"),
    ("Reference class:", "reference_class", "{}"),
]
RIGHT = [
    ("No. Observations:", "nobs", "{:g}"),
    ("Df Residuals:", "df_resid", "{:g}"),
    ("Df Model:", "df_model", "{:g}"),
    ("Pseudo R-squ.:", "prsquared", "{:.4f}"),
    ("Log-Likelihood:", "llf", "{:.5g}"),
    ("LL-Null:", "llnull", "{:.5g}"),
    ("LLR p-value:", "llr_pvalue", None),
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


class SummaryTable(pd.DataFrame):
    """A summary's coefficient table; ``print`` shows the model statistics of ``attrs`` above it."""

    @property
    def _constructor(self):
        return pd.DataFrame

    def as_text(self):
        """The statsmodels-like text: the model statistics, then the coefficient table."""
        attrs = self.attrs
        left = [(label, fmt.format(attrs[key])) for label, key, fmt in LEFT if key in attrs]
        right = [
            (label, format_p_value(attrs[key]) if fmt is None else fmt.format(attrs[key]))
            for label, key, fmt in RIGHT
            if key in attrs
        ]
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
                format_p_value(v) if column == "p_value" else (f"{v:.4f}" if np.isfinite(v) else "nan")
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
