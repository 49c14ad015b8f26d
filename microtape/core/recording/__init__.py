"""Recording: which tapes record here (``context.py``) and what one record is (``record.py``)."""
