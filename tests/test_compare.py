"""`torchlogit compare` / `python -m torchlogit`: the side-by-side report and its errors."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from torchlogit._compare import main


def test_json_report_on_a_bundled_dataset(capsys):
    assert main(["compare", "--dataset", "iris", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["models"]) == {"TorchLogisticClassifier", "LogisticRegression"}
    for row in report["models"].values():
        assert {"accuracy", "log_loss", "fit_time", "predict_time"} <= set(row)
    assert report["agreement"]["max_abs_proba_diff"] < 0.05
    assert report["dataset"] == "iris" and report["n_features"] == 4


def test_table_report_and_progress_line(capsys):
    assert main(["--dataset", "wine", "--dtype", "float64", "--C", "0.5"]) == 0
    captured = capsys.readouterr()
    assert "TorchLogisticClassifier" in captured.out and "LogisticRegression" in captured.out
    assert "max |predict_proba difference|" in captured.out
    assert "fitting both models on wine" in captured.err


@pytest.fixture
def csv_path(tmp_path):
    data = load_breast_cancer(as_frame=True).frame
    path = tmp_path / "cancer.csv"
    data.to_csv(path, index=False)
    return path


def test_csv_input(csv_path, capsys):
    assert main(["--csv", str(csv_path), "--target", "target", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_features"] == 30


@pytest.mark.parametrize(
    "args, message",
    [
        (["--csv", "/no/such/file.csv", "--target", "y"], "no such file"),
        (["--csv", "{csv}", "--target", "nope"], "column 'nope' is not in"),
        (["--csv", "{csv}"], "--csv needs --target"),
        (["--csv", "{text_csv}", "--target", "target"], "non-numeric feature columns"),
        (["--dataset", "wine", "--device", "gpu"], "'device' parameter"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, message, csv_path, tmp_path, capsys):
    text_csv = tmp_path / "text.csv"
    pd.DataFrame({"word": ["a", "b"] * 10, "x": np.arange(20), "target": [0, 1] * 10}).to_csv(text_csv, index=False)
    args = [a.format(csv=csv_path, text_csv=text_csv) for a in args]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("torchlogit compare: error:")


def test_plot_writes_a_png_or_says_what_is_missing(tmp_path, capsys):
    path = tmp_path / "compare.png"
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        with pytest.raises(SystemExit) as exit_info:
            main(["--dataset", "iris", "--plot", str(path)])
        assert exit_info.value.code == 2 and "needs matplotlib" in capsys.readouterr().err
    else:
        assert main(["--dataset", "iris", "--plot", str(path)]) == 0
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_python_dash_m_runs_without_a_traceback():
    out = subprocess.run(
        [sys.executable, "-m", "torchlogit", "compare", "--dataset", "wine", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout)["dataset"] == "wine"
