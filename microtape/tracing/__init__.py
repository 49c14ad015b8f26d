"""``mt.function``: tracing a function, and running what it recorded as generated Python.

``function.py`` is the decorator and its cache of traced paths (``path.py``),
``trace.py`` the tracer that records one run, ``nest.py`` the arguments and results as
nests of leaves. The code is written here too: ``program.py`` is a traced run as a
program, ``codegen.py`` writes it as Python on floats with the float sweep written out
(``writer.py``), long programs in shared functions (``blocks.py``, ``chunks.py``,
``calls.py``). The core offers the tracer a sink (``core/recording/context.py``'s
``TracerSink``) and the number observer (``core/recording/observer.py``).
"""
