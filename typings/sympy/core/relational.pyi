"""Where sympy keeps the base class of its comparisons (not exported at the top level)."""

from sympy import Relational as Relational
