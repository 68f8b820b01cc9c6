"""``python -m torchlogit``: compare TorchLogisticClassifier with scikit-learn's LogisticRegression."""

import sys

from ._compare import main

sys.exit(main())
