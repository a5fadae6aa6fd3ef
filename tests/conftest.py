"""Shared test settings: derandomised hypothesis so that CI runs are repeatable."""

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "budgetlab",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("budgetlab")


@pytest.fixture
def cli_exit(capsys):
    """Run a command line's ``main(argv)``; return its exit status and what it wrote to stderr.

    argparse's own errors raise SystemExit; their status is returned the same way.
    """
    def run(main, argv):
        try:
            status = main(argv)
        except SystemExit as exc:
            status = exc.code
        return status, capsys.readouterr().err

    return run
