"""``numpy.random`` unchanged: random numbers are constants to every derivative."""

from numpy.random import *  # noqa: F401,F403
from numpy.random import default_rng, seed  # noqa: F401
