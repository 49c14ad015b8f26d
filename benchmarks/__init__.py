"""microtape's benchmark: how fast it records and sweeps, and how much memory it holds.

A developer's instrument kept beside the package, not in it: it is not installed with
microtape. Run it from a clone's root::

    python -m benchmarks            # about 2 minutes; prints each section as it completes
    python -m benchmarks --quick    # small sizes, a few seconds: a smoke run of every figure
    python -m benchmarks --json     # the same figures as JSON
    python benchmarks/run.py ...    # the same, as a script

Every figure is measured in one process, side by side with a floor (the leanest
pure-Python reverse mode) and, when it is installed, micrograd 0.1.0:

- the reference workloads (mlp, chain): milliseconds for record plus reverse sweep,
  nanoseconds and bytes held per recorded node, and the ratios micrograd/microtape and
  microtape/floor. Per-node figures divide by the records on microtape's tape for every
  engine, so that they compare node for node;
- second order: a Hessian through nested tapes against one first-order gradient;
- Value arithmetic outside any tape against the same arithmetic on floats;
- what ``import microtape`` adds to the start of a fresh interpreter;
- a chain a million steps deep against one of ten thousand, per node;
- plugin ops (built with ``mt.Op``) against built-in ops of the same arity;
- the memory a tape returns on ``release()`` and after a non-persistent gradient;
- the workloads compiled with ``mt.function`` against record + sweep of the same
  function, and what the first call (trace and compile) costs.

The modules:

- ``main``: the command line, and the run that prints the report (``--json`` for machines);
- ``report``: the text report, one function per section;
- ``measure``: what each section measures; ``import_time``: the fresh interpreters;
- ``instruments``: timed runs, min/median statistics, tracemalloc, the kernel's share;
- ``workloads``: the two reference workloads and the engines that run them;
- ``floor``: the floor engine; ``probes``: the smaller figures' workloads.
"""
