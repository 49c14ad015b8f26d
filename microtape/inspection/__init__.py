"""Inspection, on top of a tape's public view: ``print(tape)`` (``summary.py``), the same
table as HTML for Jupyter (``html.py``), ``tape.explain`` (``explain.py``), pictures
(``dot.py``), a Value's recorded computation as a sympy expression (``to_sympy.py``),
``print(acc)`` (``tangents.py``), and the describer that ``import microtape`` installs
into the core's tapes and accumulators (``installed.py``)."""
