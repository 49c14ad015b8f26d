"""Inspection, on top of a tape's public view: ``print(tape)`` (``summary.py``), the same
table as HTML for Jupyter (``html.py``), ``tape.explain`` (``explain.py``), pictures
(``dot.py``), and a Value's recorded computation as a sympy expression (``symbolic.py``)."""
