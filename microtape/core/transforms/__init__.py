"""Transformations: what is done with a tape's records.

``reverse.py`` is the reverse sweep (gradients), on floats and on Values; ``forward.py``
pushes tangents through each op's rows as it runs (forward mode), on floats and on
Values. ``codegen.py`` writes a traced run (``program.py``) as Python on floats, with the
float sweep written out (``writer.py``), long programs in shared functions
(``blocks.py``, ``chunks.py``, ``calls.py``). A new transformation is a new module here
that reads records through
``recording/record.py``.
"""
