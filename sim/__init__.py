"""Monte Carlo simulators and their command lines (``python -m sim.<model>``)."""
