"""The gallery's prose shows no sphinx-gallery markup.

sphinx-gallery reads a comment block after ``# %%`` as the text of the page: a
``# sphinx_gallery_...`` configuration comment written inside one is printed as prose
(``remove_config_comments`` only strips it from code), and a second ``# %%`` right after
the first is printed as "%%" in front of the section title, which then is no title.
"""

from pathlib import Path

import pytest

pytest.importorskip("sphinx_gallery")
from sphinx_gallery.py_source_parser import split_code_and_text_blocks  # noqa: E402

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("plot_*.py"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_text_blocks_hold_no_gallery_markup(example):
    _, blocks = split_code_and_text_blocks(example)
    for label, content, lineno in blocks:
        if label != "text":
            continue
        lines = content.splitlines()
        assert not any("sphinx_gallery_" in line for line in lines), (
            f"{example.name}:{lineno}: a sphinx_gallery_ comment in a text block is shown as prose; "
            "put a blank line before it so that it starts the code block"
        )
        assert not any(line.lstrip().startswith("%%") for line in lines), (
            f"{example.name}:{lineno}: '# %%' twice in a row shows '%%' as prose and loses the section title"
        )
