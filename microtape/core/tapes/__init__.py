"""Tapes: ``GradientTape`` (``tape.py``), where it keeps its records (``storage.py``), its
pauses (``pause.py``), what ``gradient`` is asked (``arguments.py``), and its read-only
view (``view.py``); ``ForwardAccumulator`` (``accumulator.py``), forward mode's
counterpart; and how both are put into words (``describer.py``)."""
