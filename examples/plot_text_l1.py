"""
Selecting words with an L1 penalty
==================================

A text-classification pipeline, ``TfidfVectorizer -> TorchLogisticClassifier(l1_ratio=1)``,
trained on a small corpus generated here (no download): each document mixes words of its
topic with words common to both. The TF-IDF matrix stays sparse all the way to the
model, and the L1 penalty sets the weight of every common word to exactly zero: only
words that tell the topics apart keep a weight (the printout counts both groups).
"""

# %%
# A corpus of two topics
# ----------------------
# Each document mixes words of its topic with words shared by both topics.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from torchlogit import TorchLogisticClassifier

rng = np.random.RandomState(0)
topics = {
    "sport": "match goal team score coach league season player referee stadium".split(),
    "cooking": "recipe oven flour butter sauce garlic simmer bake pepper kitchen".split(),
}
shared = "today people great time new good week first best always really".split()


def document(topic):
    words = list(rng.choice(topics[topic], size=4)) + list(rng.choice(shared, size=8))
    rng.shuffle(words)
    return " ".join(words)


labels = rng.choice(["sport", "cooking"], size=400)
docs = [document(label) for label in labels]
docs_train, docs_test, y_train, y_test = train_test_split(docs, labels, random_state=0)

# %%
# The pipeline
# ------------
# ``C`` is scikit-learn's: smaller means a stronger penalty, hence fewer words.
model = make_pipeline(TfidfVectorizer(), TorchLogisticClassifier(C=3.0, l1_ratio=1.0))
model.fit(docs_train, y_train)
print(f"held-out accuracy: {model.score(docs_test, y_test):.3f}")

# %%
# The selected words
# ------------------
# Positive weights point to ``classes_[1]`` ("sport"), negative ones to "cooking".
vectorizer, clf = model.named_steps.values()
words = vectorizer.get_feature_names_out()
coef = clf.coef_[0]
kept = np.flatnonzero(coef)
is_shared = np.isin(words, shared)
print(f"{len(kept)} of {len(words)} words kept")
print(f"common words set to exactly zero: {int(np.sum(coef[is_shared] == 0))} of {int(is_shared.sum())}")
print(f"topic words kept: {int(np.sum(coef[~is_shared] != 0))} of {int((~is_shared).sum())}")

# %%
# Every word's weight, the zeros included
# ---------------------------------------
order = np.argsort(coef)
fig, ax = plt.subplots(figsize=(7, 6.5))
ax.barh(np.arange(len(words)), coef[order], color=np.where(is_shared[order], "tab:grey", "tab:blue"))
ax.set(yticks=np.arange(len(words)), xlabel="coefficient (positive: sport)", title="L1-selected words")
ax.set_yticklabels(words[order], fontsize=8)
for tick, common in zip(ax.get_yticklabels(), is_shared[order], strict=True):
    tick.set_color("tab:grey" if common else "black")
ax.axvline(0, color="k", lw=0.8)
ax.text(0.02, 0.02, "grey: words common to both topics (weight exactly 0)", transform=ax.transAxes, color="tab:grey")
plt.tight_layout()
plt.show()
