"""Run HIPS autograd's own test suite against mini_autograd (a measurement, not a test).

    ./.venv/bin/python benchmarks/peer_suite.py            # download, run, report
    ./.venv/bin/python benchmarks/peer_suite.py --sdist /tmp/ag/autograd-1.9.1.tar.gz

autograd's tests ship in its source distribution.  This script downloads it from PyPI
(``pip download autograd==1.9.1 --no-binary :all:``), unpacks it to a temporary
directory, and writes a pytest plugin there (``conftest`` of its own, never copied into
this project) that puts mini_autograd in ``sys.modules`` under autograd's names before the
test modules import them:

* ``autograd``, ``autograd.numpy``, ``autograd.numpy.random``, ``autograd.numpy.linalg``,
  ``autograd.scipy.special``, ``autograd.scipy.stats(.norm)``: mini_autograd's modules;
* ``autograd.test_util``: ``check_grads(fun, argnum=0, modes, order)(*args)`` and
  ``combo_check`` written here over ``mini_autograd.checks.check_grads``;
* any name mini_autograd lacks: a stub that raises ``NotImplementedError`` when called, so
  a test that needs it fails alone instead of stopping its whole module from importing.

Scope: the real-valued NumPy/SciPy behaviour mini_autograd promises (see ``IN_SCOPE``);
tests named ``*complex*`` are left out, and ``combo_check`` skips argument combinations
that hold a complex array.
The shared helpers in autograd's ``numpy_utils.py`` also try complex inputs by default
(``test_complex=True``); the plugin makes them pass ``test_complex=False``, so those
tests check their real-valued inputs only.  Out of scope, with the reason:

* ``test_complex.py``, ``test_fft.py``: complex values and FFTs (mini_autograd is real-only);
* ``test_core.py``, ``test_misc.py``, ``test_logic.py``, ``test_tests.py``,
  ``test_vspaces.py``, ``test_direct.py``: autograd's internal API (``autograd.core``,
  ``extend``, ``tracer``, ``vspace``, ``deriv``/``holomorphic_grad``);
* ``test_builtins.py``, ``test_dict.py``, ``test_list.py``, ``test_tuple.py``: autograd's
  container boxes (``autograd.dict``, ``autograd.isinstance``); mini_autograd
  differentiates plain containers instead (tested in tests/engine);
* ``test_performance.py``, ``_test_complexity.py``, ``profiling.py``: timings;
* in ``test_scipy.py``, everything but the functions mini_autograd.scipy provides
  (``logsumexp``, ``expit``, ``logit``, ``erf``, ``erfc``, ``erfinv``, ``erfcinv``,
  ``gamma``, ``gammaln``, ``digamma``/``psi``, ``polygamma``, ``stats.norm``): other
  distributions, Bessel and incomplete gamma/beta functions, signal, integrate and
  scipy.linalg are not part of mini_autograd.

Prints the counts, the pass percentage and the failures grouped by their error.
"""

import argparse
import collections
import pathlib
import re
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET

VERSION = "1.9.1"

IN_SCOPE = ["test_numpy.py", "test_systematic.py", "test_linalg.py", "test_binary_ops.py",
            "test_scalar_ops.py", "test_truediv.py", "test_jacobian.py", "test_graphs.py",
            "test_wrappers.py", "test_ufunc_dispatch.py", "test_scipy.py"]
SCIPY_IN_SCOPE = ("test_logsumexp or test_norm or test_erf or test_gamma or test_digamma "
                  "or test_psi or test_polygamma or test_logit or test_expit")
SCIPY_SKIP = "not test_gamma_ and not test_gammainc and not test_gammasgn"

PLUGIN = '''
"""Written by mini_autograd's benchmarks/peer_suite.py: autograd's names -> mini_autograd."""
import sys, types, itertools
import numpy as onp
import scipy.integrate, scipy.linalg, scipy.signal, scipy.stats
import mini_autograd, mini_autograd.numpy, mini_autograd.numpy.random, mini_autograd.numpy.linalg
import mini_autograd.scipy.special, mini_autograd.scipy.stats
from mini_autograd.checks import check_grads as _mini_check_grads


def _stub(qualname):
    def missing(*args, **kwargs):
        raise NotImplementedError(f"mini_autograd has no {qualname}")
    missing.__name__ = qualname.rsplit(".", 1)[-1]
    return missing


class _Facade(types.ModuleType):
    """A module that answers from mini_autograd's module, or with a stub."""
    def __init__(self, name, target=None, fallback=None):
        super().__init__(name)
        self.__path__ = []
        self._target, self._fallback = target, fallback

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        submodule = sys.modules.get(f"{self.__name__}.{attr}")
        if submodule is not None:
            return submodule
        if self._target is not None:
            try:
                return getattr(self._target, attr)
            except AttributeError:
                pass
        if self._fallback is not None and hasattr(self._fallback, attr):
            return getattr(self._fallback, attr)  # module-level test data (rvs...) only
        return _stub(f"{self.__name__}.{attr}")


def check_grads(fun, argnum=0, modes=("fwd", "rev"), order=2):
    def nary(*args, **kwargs):
        argnums = (argnum,) if isinstance(argnum, int) else tuple(argnum)

        def unary(x):
            full = list(args)
            for i, xi in zip(argnums, (x,) if isinstance(argnum, int) else x):
                full[i] = xi
            return fun(*full, **kwargs)

        x = args[argnum] if isinstance(argnum, int) else tuple(args[i] for i in argnums)
        _mini_check_grads(unary, x, modes=tuple(modes), order=order)
    return nary


def _is_complex(x):
    if isinstance(x, (list, tuple)):
        return any(_is_complex(v) for v in x)
    return onp.iscomplexobj(x)


def combo_check(fun, *check_args, **check_kwargs):
    def run(*arg_lists, **kwarg_lists):
        keyed = [[(k, v) for v in vs] for k, vs in kwarg_lists.items()]
        for args in itertools.product(*arg_lists):
            if any(_is_complex(a) for a in args):
                continue  # real-valued scope: complex inputs are not mini_autograd's
            for kwargs in itertools.product(*keyed):
                check_grads(fun, *check_args, **check_kwargs)(*args, **dict(kwargs))
    return run


def scalar_close(a, b):
    return abs(a - b) < 1e-6 or abs(a - b) / abs(a + b) < 1e-6


def check_equivalent(x, y):
    onp.testing.assert_allclose(onp.asarray(x), onp.asarray(y), rtol=1e-6, atol=1e-6)


test_util = types.ModuleType("autograd.test_util")
test_util.check_grads, test_util.combo_check = check_grads, combo_check
test_util.scalar_close, test_util.check_equivalent = scalar_close, check_equivalent

modules = {
    "autograd": _Facade("autograd", mini_autograd),
    "autograd.numpy": mini_autograd.numpy,
    "autograd.numpy.random": mini_autograd.numpy.random,
    "autograd.numpy.linalg": mini_autograd.numpy.linalg,
    "autograd.scipy": _Facade("autograd.scipy", mini_autograd.scipy),
    "autograd.scipy.special": mini_autograd.scipy.special,
    "autograd.scipy.stats": _Facade("autograd.scipy.stats", mini_autograd.scipy.stats, scipy.stats),
    "autograd.scipy.stats.norm": mini_autograd.scipy.stats.norm,
    "autograd.test_util": test_util,
}
for name in ["autograd.core", "autograd.extend", "autograd.tracer", "autograd.wrap_util",
             "autograd.misc", "autograd.builtins", "autograd.util"]:
    modules[name] = _Facade(name)
for name in ["integrate", "linalg", "signal", "stats.multivariate_normal"]:
    modules[f"autograd.scipy.{name}"] = _Facade(f"autograd.scipy.{name}", None,
                                                 eval(f"scipy.{name}"))
modules["autograd.tracer"].isbox = lambda x: isinstance(x, mini_autograd.Box)
# autograd's container constructors: mini_autograd differentiates the plain ones
import builtins  # noqa: E402
for _name in ("tuple", "list", "dict", "isinstance"):
    setattr(modules["autograd"], _name, getattr(builtins, _name))
sys.modules.update(modules)

import numpy_utils  # noqa: E402  (autograd's helpers: real-valued inputs only, see the runner)


def _real_only(helper):
    def run(*args, **kwargs):
        kwargs["test_complex"] = False
        return helper(*args, **kwargs)
    return run


for _name in ("stat_check", "unary_ufunc_check", "binary_ufunc_check",
              "binary_ufunc_check_no_same_args"):
    setattr(numpy_utils, _name, _real_only(getattr(numpy_utils, _name)))
'''


def _sdist(path):
    if path:
        return pathlib.Path(path)
    target = pathlib.Path(tempfile.mkdtemp(prefix="autograd-sdist-"))
    subprocess.run([sys.executable, "-m", "pip", "download", f"autograd=={VERSION}",
                    "--no-binary", ":all:", "--no-deps", "-q", "-d", str(target)], check=True)
    return next(target.glob("autograd-*.tar.gz"))


def _first_line(message):
    message = (message or "").strip().splitlines()
    return message[0][:160] if message else "(no message)"


def _cause(case):
    failure = case.find("failure")
    if failure is None:
        failure = case.find("error")
    text = failure.get("message") or failure.text or ""
    text = re.sub(r"0x[0-9a-f]+", "0x..", text)
    return _first_line(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", help="a downloaded autograd sdist (.tar.gz)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("-k", help="pytest -k expression, for a quick look at some tests")
    options = parser.parse_args()

    work = pathlib.Path(tempfile.mkdtemp(prefix="peer-suite-"))
    with tarfile.open(_sdist(options.sdist)) as tar:
        tar.extractall(work, filter="data")
    tests = next(work.glob("autograd-*")) / "tests"
    (tests / "conftest.py").write_text((tests / "conftest.py").read_text() + PLUGIN)
    (tests / "pytest.ini").write_text("[pytest]\n")  # not autograd's pyproject settings
    report = work / "report.xml"
    select = [str(tests / name) for name in IN_SCOPE]
    keyword = f"not complex and (not test_scipy.py or ({SCIPY_IN_SCOPE}) and {SCIPY_SKIP})"
    if options.k:
        keyword = f"{keyword} and ({options.k})"
    # run from the tests folder, with autograd's own package folder out of sys.path
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "-p", "no:randomly", "-W", "ignore", "-c", str(tests / "pytest.ini"),
                    "--rootdir", str(tests), "-k", keyword,
                    f"--junitxml={report}", *select], cwd=tests)
    cases = list(ET.parse(report).getroot().iter("testcase"))
    ran = [c for c in cases if c.find("skipped") is None]
    failed = [c for c in ran if c.find("failure") is not None or c.find("error") is not None]
    passed = len(ran) - len(failed)
    by_cause = collections.defaultdict(list)
    for case in failed:
        by_cause[_cause(case)].append(f"{case.get('classname').split('.')[-1]}::{case.get('name')}")
    print(f"\nautograd {VERSION} tests in scope: {len(ran)}, passed: {passed}, "
          f"failed: {len(failed)}, pass rate {100.0 * passed / max(len(ran), 1):.1f}%")
    for cause, names in sorted(by_cause.items(), key=lambda kv: -len(kv[1])):
        print(f"\n[{len(names)}] {cause}")
        for name in names:
            print(f"    {name}")
    if options.keep:
        print(f"\nkept {work}")
    else:
        import shutil

        shutil.rmtree(work)


if __name__ == "__main__":
    main()
