"""
Selecting words with an L1 penalty
==================================

A text-classification pipeline, ``TfidfVectorizer -> TorchLogisticClassifier(l1_ratio=1)``,
trained on a small corpus generated here (no download). The TF-IDF matrix stays sparse
all the way to the model, and the L1 penalty sets most word weights to exactly zero:
the words left are the ones that decide.
"""

# %%
# A corpus of two topics
# ----------------------
# Each document mixes words of its topic with words shared by both topics.
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
print(f"{len(kept)} of {len(words)} words kept")
for index in kept[np.argsort(coef[kept])]:
    print(f"{words[index]:>10s} {coef[index]:+.2f}")
