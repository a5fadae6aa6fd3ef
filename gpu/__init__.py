"""GPU versions of the simulators (CuPy); each also runs with NumPy arrays on a CPU."""
