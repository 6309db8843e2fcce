"""hyposcreen: nightly lab screening for hyponatremia with cramp-associated risk factors."""

__version__ = "0.1.0"
