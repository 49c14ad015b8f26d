"""``mt.function``: tracing a function, and running what it recorded as generated Python.

``function.py`` is the decorator and its cache of traced paths (``path.py``),
``trace.py`` the tracer that records one run, ``nest.py`` the arguments and results as
nests of leaves. The code itself is written by the core (``core/transforms/codegen.py``).
"""
