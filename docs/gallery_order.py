"""The gallery's reading order: the introductory example first, then from simple to specialised."""

ORDER = [
    "plot_hours_passing.py",
    "plot_iris_regions.py",
    "plot_digits_comparison.py",
    "plot_grid_search.py",
    "plot_text_l1.py",
    "plot_inference_vs_statsmodels.py",
    "plot_multilabel_vs_mlp.py",
    "plot_training_curves.py",
    "plot_cv_path.py",
]


class ExampleOrder:
    """sphinx-gallery ``within_subsection_order``: files in ``ORDER`` first, in that order, then by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        return (ORDER.index(filename), "") if filename in ORDER else (len(ORDER), filename)

    def __repr__(self):
        return f"<{type(self).__name__}>"
