"""mutmut's command line, with each mutant's tests sent to the fork server fastest first.

mutmut 3.8's ``ForkRunner`` sorts a mutant's tests by their measured duration, so a mutant dies at
its quickest failing test; its ``ForkServerRunner`` (our ``process_isolation = "forkserver"``, which
torch needs) passes them in set order, so a mutant the first quick unit test would kill often waits
for a minute-long fit first. Run from a directory with a ``[tool.mutmut]`` section, like ``mutmut``.
"""

from mutmut.state import state
from mutmut.workers.isolation import ForkServerRunner

_submit = ForkServerRunner.submit


def _submit_fastest_first(self, mutant_name, tests, cpu_time_limit, estimated_time):
    durations = state().duration_by_test
    tests = sorted(tests, key=lambda test: (durations.get(test, 0.0), test))
    return _submit(self, mutant_name, tests, cpu_time_limit, estimated_time)


ForkServerRunner.submit = _submit_fastest_first

if __name__ == "__main__":
    from mutmut.__main__ import cli

    cli()
