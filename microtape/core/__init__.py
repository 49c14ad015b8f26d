"""The core: Values and ops, recording, transformations, tapes, and the errors.

Its parts, each importing only those listed before it:

- ``errors.py``: every error microtape raises, in one tree; ``words.py``: how its texts
  write counts, numbers and long lines.
- ``recording/``: which sinks record in this thread or task (``context.py``), what
  one record is (``record.py``, the only module that knows the layout of a record), and
  who hears where a Value's number is used (``observer.py``).
- ``values/``: ``Value``, ``Op``, the built-in op table (``builtins.py``), and the
  learner's names for Values (``names.py``).
- ``transforms/``: what is done with records: the reverse sweep (``reverse.py``),
  and forward mode (``forward.py``).
- ``tapes/``: ``GradientTape``, where it keeps its records, and its read-only view;
  ``ForwardAccumulator``.

Nothing here imports tracing (``mt.function``), inspection, the registry, teaching,
testing or the command line; they are built on top of it.
"""
