"""The op registry (``table.py``) and plugin discovery through entry points (``plugins.py``)."""
