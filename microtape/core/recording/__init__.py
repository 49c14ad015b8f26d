"""Recording: which tapes record here (``context.py``), what one record is (``record.py``),
and what a tracer hears beside the records (``tracing.py``)."""
