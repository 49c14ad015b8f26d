"""Values and ops: ``Value``, ``Op``, and the built-in op table (``builtins.py``)."""
