"""What ``import microtape`` loads, seen from a fresh interpreter: neither sympy nor
hypothesis nor the teaching layer until they are used, and a clear message where the
testing extra is missing."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.subprocess  # each test starts a fresh interpreter


def _fresh(code: str) -> str:
    """What ``code`` prints in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


LAZY = ("microtape.nn", "microtape.optim", "microtape.losses", "microtape.datasets")


def test_import_loads_neither_sympy_nor_hypothesis_nor_the_teaching_layer() -> None:
    heavy = ("sympy", "hypothesis", "mpmath", "microtape.testing", *LAZY)
    code = f"import sys, microtape; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    assert _fresh(code) == "[]"


def test_submodules_are_attributes_after_a_plain_import() -> None:
    code = (
        "import microtape as mt; "
        "model = mt.nn.Dense(1, 1); "
        "opt = mt.optim.SGD(learning_rate=0.1); "
        "print(mt.losses.mean_squared_error([1.0], model([1.0])).data >= 0.0, "
        "mt.datasets.make_moons(4).labels, type(opt).__name__)"
    )
    assert _fresh(code) == "True [0.0, 1.0, 0.0, 1.0] SGD"


def test_using_one_submodule_loads_only_what_it_needs() -> None:
    code = (
        "import sys, microtape as mt; mt.nn.Dense(1, 1); "
        "print(sorted(m for m in ('sympy', 'hypothesis', 'microtape.testing') if m in sys.modules))"
    )
    assert _fresh(code) == "[]"


def test_the_testing_helpers_load_on_first_use() -> None:
    code = (
        "import sys, microtape as mt; before = 'sympy' in sys.modules; "
        "check = mt.testing.check_op; print(before, 'sympy' in sys.modules, check.__name__)"
    )
    assert _fresh(code) == "False True check_op"


def test_dir_lists_the_lazy_submodules_before_they_load() -> None:
    names = {"nn", "optim", "losses", "datasets", "testing"}
    code = f"import microtape as mt; print(sorted(set(dir(mt)) & {names!r}))"
    assert _fresh(code) == "['datasets', 'losses', 'nn', 'optim', 'testing']"


def test_import_microtape_does_not_import_sympy_for_mt_to_sympy() -> None:
    code = "import sys, microtape as mt; mt.to_sympy; print('sympy' in sys.modules)"
    assert _fresh(code) == "False"


def test_importing_testing_without_its_extra_says_which_extra() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('sympy', 'hypothesis'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import microtape\n"
        "try:\n"
        "    import microtape.testing\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    assert "pip install 'microtape[testing]'" in _fresh(code)
