"""Shared test settings: derandomised hypothesis so that CI runs are repeatable."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "budgetlab",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("budgetlab")
