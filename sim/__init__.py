"""Monte Carlo simulators and their command lines (``python -m sim.<model>``)."""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("budgetlab")
except _metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"
