"""Transformations: what is done with a tape's records.

``reverse.py`` is the reverse sweep (gradients), on floats and on Values; ``forward.py``
pushes tangents through each op's rows as it runs (forward mode), on floats and on
Values. A new transformation is a new module here that reads records through
``recording/record.py``. Writing records as Python code (``mt.function``) lives with the
tracer, in ``microtape/tracing/``.
"""
