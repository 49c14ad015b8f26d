"""Recording: which sinks record here (``context.py``), what one record is (``record.py``),
and who hears where a Value's number is used (``observer.py``)."""
