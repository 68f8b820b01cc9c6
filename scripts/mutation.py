"""Mutation testing, one module at a time, with mutmut 3 (see scripts/mutation.toml for the why).

Usage (from scripts/mutation.sh)::

    python scripts/mutation.py [--max-children N] [--resume] [MODULE ...]

MODULE is a name from scripts/mutation.toml (``_objective``, ``_rows``, ...); none means all. Each
module runs in its own scratch copy of the repository, ``.mutation/<module>/`` (git-ignored), so a run
never edits the working tree and two modules never share mutmut's caches. ``--resume`` keeps the copy
and mutmut's results from a previous run (mutmut then only re-tests what changed). The score and the
surviving mutants (with their diffs) go to ``.mutation/<module>/report.md`` and to the terminal.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "scripts" / "mutation.toml"
FASTEST_FIRST = ROOT / "scripts" / "mutmut_fastest_first.py"  # mutmut run, tests fastest first
SCRATCH = ROOT / ".mutation"
# benchmarks/: tests import sklearn_reference.py (scikit-learn's estimators spelt for the installed release).
COPIED = ["torchlogit", "tests", "benchmarks", "pyproject.toml", "README.md"]
# mutmut's exit codes (mutmut.stats.status_by_exit_code), grouped the way the report counts them.
# Timeouts are counted apart from kills: on a loaded machine a clean-but-slow mutant can run past its
# wall-clock limit (mutmut sends SIGXCPU: exit -24), so a timeout is a kill only after a look at the
# mutant (or a re-run on a quiet machine). -9 is the CPU rlimit's hard kill one second after SIGXCPU
# (mutmut calls it "segfault").
KILLED = {1, 3, 37}  # a failing test (3: pytest's internal error), or caught by a type check
TIMEOUT = {36, 24, -24, 152, 255, -9}
SURVIVED = {0}
NO_TESTS = {5, 33}


def toml_value(value):
    return json.dumps(value)  # JSON strings, lists and numbers are valid TOML


def prepare(module, spec, settings, resume, tests_at=None):
    work = SCRATCH / module
    if work.exists() and not resume:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source, target = ROOT / name, work / name
        if source.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, target)
    if tests_at:
        # The test files as they were at a commit (a "before" score while new tests are being written).
        shutil.rmtree(work / "tests")
        archive = subprocess.run(["git", "archive", tests_at, "tests"], cwd=ROOT, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(work)], input=archive.stdout, check=True)
    tests = [t for t in spec["tests"] if (work / t).exists()]
    missing = sorted(set(spec["tests"]) - set(tests))
    if missing:
        print(f"[{module}] test files not in this tree (skipped): {missing}")
    section = {
        "source_paths": ["torchlogit/"],
        "also_copy": ["benchmarks/"],  # into mutmut's mutants/: tests import benchmarks/sklearn_reference.py
        "only_mutate": [f"torchlogit/{module}.py"],
        "pytest_add_cli_args_test_selection": tests,
        **settings,
    }
    with open(work / "pyproject.toml", "a") as f:
        f.write("\n[tool.mutmut]\n")
        for key, value in section.items():
            f.write(f"{key} = {toml_value(value)}\n")
    return work


def verdicts(work, module):
    """mutmut's exit code for each mutant of the module (None: not tested yet), from its metadata."""
    return json.loads((work / "mutants" / "torchlogit" / f"{module}.py.meta").read_text())["exit_code_by_key"]


def collect(codes):
    """(counts, the names of the mutants neither killed nor timed out)."""
    counts = dict(killed=0, timeout=0, survived=0, no_tests=0, other=0, unchecked=0)
    survivors = []
    for key, code in sorted(codes.items()):
        if code is None:  # an interrupted run: not tested yet
            counts["unchecked"] += 1
        elif code in KILLED:
            counts["killed"] += 1
        elif code in TIMEOUT:
            counts["timeout"] += 1
        elif code in SURVIVED:
            counts["survived"] += 1
            survivors.append(key)
        elif code in NO_TESTS:
            counts["no_tests"] += 1
            survivors.append(key)
        else:
            counts["other"] += 1
            survivors.append(key)
    return counts, survivors


def table_row(label, counts, timing):
    tested = sum(counts.values()) - counts["unchecked"]
    # The score counts the mutants tested so far; timeouts, "no tests" and "other" count as not killed
    # (the report judges each timeout by hand).
    score = counts["killed"] / tested if tested else float("nan")
    return (
        f"| {label} | {sum(counts.values())} | {counts['killed']} | {counts['timeout']} | {counts['survived']} "
        f"| {counts['no_tests']} | {counts['other']} | {counts['unchecked']} | {score:.1%} | {timing} |"
    )


def not_killed(work, module):
    """The mutants a previous run did not kill; that run's verdicts are saved once, to before.json."""
    before = work / "before.json"
    if not before.exists():
        meta = json.loads((work / "mutants" / "torchlogit" / f"{module}.py.meta").read_text())
        before.write_text(json.dumps(meta["exit_code_by_key"], indent=0))
    codes = json.loads(before.read_text())
    return sorted(name for name, code in codes.items() if code is not None and code not in KILLED)


def show(work, name):
    out = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=work, capture_output=True, text=True)
    return out.stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--tests-at", metavar="COMMIT", help="run the test files as they were at COMMIT")
    parser.add_argument(
        "--retest",
        action="store_true",
        help="after a full run: re-test only the mutants not killed (survived, timeout, no tests, other) with the "
        "current tests; the first run's verdicts are kept in before.json for the report",
    )
    parser.add_argument("--report-only", action="store_true", help="only (re)write the reports of previous runs")
    args = parser.parse_args()
    config = tomllib.loads(CONFIG.read_text())
    modules = args.modules or list(config["modules"])
    unknown = [m for m in modules if m not in config["modules"]]
    if unknown:
        sys.exit(f"unknown module(s) {unknown}; known: {list(config['modules'])}")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # One thread per worker: the machine is shared, and a forked torch must not inherit a thread pool.
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    lines = [
        "| module | mutants | killed | timeout | survived | no tests | other | not yet run | score | start (UTC) "
        "| end (UTC) | minutes | load avg |",
        "|---" * 13 + "|",
    ]
    for module in modules:
        start = time.monotonic()
        started = time.strftime("%H:%M", time.gmtime())
        if args.report_only:
            work = SCRATCH / module
        else:
            work = prepare(
                module, config["modules"][module], config["settings"], args.resume or args.retest, args.tests_at
            )
            names = []
            if args.retest:
                names = not_killed(work, module)
                print(f"[{module}] re-testing {len(names)} mutants not killed in the first run", flush=True)
            print(f"[{module}] mutmut run in {work} (started {started} UTC)", flush=True)
            if names or not args.retest:
                subprocess.run(
                    [sys.executable, str(FASTEST_FIRST), "run", "--max-children", str(args.max_children), *names],
                    cwd=work,
                    env=env,
                )
        minutes = (time.monotonic() - start) / 60
        ended = time.strftime("%H:%M", time.gmtime())
        load = "/".join(f"{x:.1f}" for x in os.getloadavg())  # 1/5/15-minute load average at the end
        codes = verdicts(work, module)
        counts, survivors = collect(codes)
        timing = f"{started} | {ended} | {minutes:.0f} | {load}" if not args.report_only else "- | - | - | -"
        row = table_row(module, counts, timing)
        lines.append(row)
        report = [f"# Mutation testing of torchlogit/{module}.py", "", *lines[:2]]
        if (work / "before.json").exists():
            first, _ = collect(json.loads((work / "before.json").read_text()))
            report.append(table_row(f"{module} (first run)", first, "- | - | - | -"))
        report += [row, "", "## Survivors", ""]
        for name in survivors:
            report += [f"### {name} (exit code {codes[name]})", "", "```diff", show(work, name), "```", ""]
        timeouts = [name for name, code in sorted(codes.items()) if code in TIMEOUT]
        if timeouts:
            report += ["## Timeouts (exit code)", ""]
            report += [f"- {name} ({codes[name]})" for name in timeouts] + [""]
        (work / "report.md").write_text("\n".join(report))
        print(f"[{module}] {row}\n[{module}] survivors and diffs: {work / 'report.md'}", flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
