"""``python -m validation.guidance``: see :mod:`validation.guidance.measure`."""

from validation.guidance.measure import main

if __name__ == "__main__":
    raise SystemExit(main())
