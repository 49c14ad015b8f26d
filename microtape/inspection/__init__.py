"""Inspection, on top of a tape's public view: ``print(tape)`` (``summary.py``),
``tape.explain`` (``explain.py``), and pictures (``dot.py``)."""
