"""
Standard errors next to statsmodels
===================================

:meth:`~torchlogit.TorchLogisticClassifier.summary` reports coefficients with standard
errors, z statistics, p-values and confidence intervals. Here it is next to statsmodels'
``Logit`` on statsmodels' own ``spector`` data (does a new teaching method, PSI, raise the
grade?), and next to ``MNLogit`` for a multinomial model.
"""

# %%
# Binary: statsmodels' Logit
# --------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import statsmodels.api as sm

from torchlogit import TorchLogisticClassifier

data = sm.datasets.spector.load_pandas()
X, y = data.exog, data.endog.astype(int)

clf = TorchLogisticClassifier(C=np.inf, dtype="float64", tol=1e-10, max_iter=1000).fit(X, y)
ours = clf.summary(X, y)
ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0)
# Printed, the table shows the model statistics statsmodels users look for (they are
# also in ``ours.attrs``), above the coefficients.
print(ours)
print(ref.summary())

# %%
# Side by side, and the largest relative difference
theirs = pd.DataFrame({"coef": ref.params, "std_err": ref.bse, "p_value": ref.pvalues}).set_axis(ours.index)
side = pd.concat({"torchlogit": ours[["coef", "std_err", "p_value"]], "statsmodels": theirs}, axis=1)
print(side.round(4))
print(f"max relative difference of std_err: {(ours['std_err'] / ref.bse.to_numpy() - 1).abs().max():.1e}")

# %%
# The intervals, drawn
# --------------------
# Each coefficient with its 95% interval: torchlogit above, statsmodels below. They
# coincide to the printed digits.
intervals = ref.conf_int()
fig, ax = plt.subplots(figsize=(7, 3.2))
rows = np.arange(len(ours))
ax.errorbar(
    ours["coef"],
    rows - 0.12,
    xerr=[ours["coef"] - ours["ci_low"], ours["ci_high"] - ours["coef"]],
    fmt="o",
    capsize=3,
    label="torchlogit summary()",
)
ax.errorbar(
    ref.params,
    rows + 0.12,
    xerr=[ref.params - intervals[0], intervals[1] - ref.params],
    fmt="s",
    capsize=3,
    color="tab:grey",
    label="statsmodels Logit",
)
ax.axvline(0, color="k", lw=0.8)
ax.set(yticks=rows, yticklabels=ours.index, xlabel="coefficient (95% interval)", title="spector: PSI and the grade")
ax.invert_yaxis()
ax.legend(loc="lower left")  # the lower left is empty: no interval reaches there
plt.tight_layout()
plt.show()

# %%
# Robust (sandwich) standard errors
# ---------------------------------
robust = clf.summary(X, y, cov_type="HC0")
ref_robust = sm.Logit(y, sm.add_constant(X)).fit(disp=0, cov_type="HC0")
print(pd.DataFrame({"torchlogit HC0": robust["std_err"], "statsmodels HC0": ref_robust.bse.to_numpy()}).round(4))

# %%
# Multinomial: contrasts against a reference class, as MNLogit
# -------------------------------------------------------------
# Party identification (7 classes) in the 1996 American National Election Study.
anes = sm.datasets.anes96.load_pandas()
Xa = anes.exog[["logpopul", "selfLR", "age", "educ", "income"]]
Xa = (Xa - Xa.mean()) / Xa.std()
ya = anes.endog.astype(int)
multi = TorchLogisticClassifier(C=np.inf, dtype="float64", tol=1e-10, max_iter=1000).fit(Xa, ya)
table = multi.summary(Xa, ya)
print("reference class:", table.attrs["reference_class"])
print(table.loc[1].round(4))
mn = sm.MNLogit(ya, sm.add_constant(Xa)).fit(disp=0, method="newton")
class_1 = pd.DataFrame({"coef": mn.params[0].to_numpy(), "std_err": mn.bse[0].to_numpy()}, index=table.loc[1].index)
print(class_1.round(4))
