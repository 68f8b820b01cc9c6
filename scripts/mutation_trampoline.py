"""Judge chosen mutants with mutmut's own trampoline, one fork per mutant (docs/mutation_report.md's hand checks).

mutmut 3 compiles every mutant into its copy of the package (``.mutation/<module>/mutants/``) and
picks one at run time from ``MUTANT_UNDER_TEST``. This script imports torch, the module and the
test files once, then, for each mutant name, forks, sets ``MUTANT_UNDER_TEST`` and runs pytest
(``-x``) on the given test files in the fork: a failing test is a kill. It is how a module's
survivors are re-judged against new tests without a full ``mutmut run`` (whose survivors each
cost the module's whole test selection)::

    cp tests/*.py .mutation/_base/mutants/tests/          # the current tests into mutmut's copy
    OMP_NUM_THREADS=1 nice -n 19 .venv/bin/python scripts/mutation_trampoline.py \\
        $PWD/.mutation/_base/mutants _base names.txt verdicts.json -- tests/test_contracts_base.py

``names.txt`` holds one mutant per line (``torchlogit._base.xǁBaseTorchClassifierǁ_train__mutmut_12``
or the part after the module name); verdicts ("killed", "survived", "timeout", "exitN", with the
first failing test) are appended to ``verdicts.json`` as they come, and names already there are
skipped, so an interrupted run continues. Environment: ``MUT_TIMEOUT`` (seconds per mutant, default
150), ``MKH_SELECT`` (JSON ``{"<function>": "<pytest -k expression>"}`` to restrict the tests of a
function's mutants), ``MKH_PRELOAD`` (``module:function,...`` called once in the parent before the
forks, e.g. to fit cached models that the mutated module does not touch). MUTANTS_DIR must be absolute.
"""

import importlib
import json
import os
import signal
import sys
import time

work, module, names_file, out = sys.argv[1:5]
args = sys.argv[sys.argv.index("--") + 1 :]
os.chdir(work)
sys.path.insert(0, work)
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("SCIPY_ARRAY_API", "1")
import numpy  # noqa: E402, F401
import pytest  # noqa: E402
import scipy  # noqa: E402, F401
import sklearn  # noqa: E402, F401
import skorch  # noqa: E402, F401
import torch  # noqa: E402

torch.set_num_threads(1)
importlib.import_module(f"torchlogit.{module}")
importlib.import_module("tests.conftest")
for a in args:
    if a.startswith("tests/") and a.endswith(".py"):
        importlib.import_module(a[:-3].replace("/", "."))
for spec in filter(None, os.environ.get("MKH_PRELOAD", "").split(",")):
    name, function = spec.split(":")
    getattr(importlib.import_module(name), function)()
names = [line.strip() for line in open(names_file) if line.strip()]
results = json.load(open(out)) if os.path.exists(out) else {}
timeout = float(os.environ.get("MUT_TIMEOUT", "150"))
select = json.loads(os.environ.get("MKH_SELECT", "{}"))
for name in names:
    full = name if name.startswith("torchlogit.") else f"torchlogit.{module}.{name}"
    if full in results:
        continue
    start = time.time()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run the tests under this mutant, report the first failure
        import contextlib
        import io

        os.close(read_end)
        os.environ["MUTANT_UNDER_TEST"] = full
        buffer = io.StringIO()
        function = full.split(".")[-1].split("\u01c1")[-1].rsplit("__mutmut_", 1)[0]
        extra = ["-k", select[function]] if function in select else []
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(io.StringIO()):
            code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", "--no-header", *args, *extra])
        failed = [line for line in buffer.getvalue().splitlines() if line.startswith(("FAILED", "ERROR"))]
        os.write(write_end, (failed[0] if failed else "").encode()[:400])
        os._exit(int(code))
    os.close(write_end)
    status = None
    while time.time() < start + timeout:
        done, wait_status = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(wait_status)
            break
        time.sleep(0.05)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        verdict = "timeout"
    else:
        verdict = {0: "survived", 1: "killed"}.get(status, f"exit{status}")
    message = os.read(read_end, 500).decode(errors="replace")
    os.close(read_end)
    results[full] = [verdict, message]
    json.dump(results, open(out, "w"), indent=1)
    print(f"{name} {verdict} {time.time() - start:.1f}s {message}", flush=True)
print("killed", sum(v[0] != "survived" for v in results.values()), "of", len(results))
