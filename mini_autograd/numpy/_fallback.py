"""NumPy functions without derivative rules: usable on constants, a clear error on traced values."""

import functools

from ..tracer import Box, NoDerivativeError, is_live


def _has_box(obj):
    if obj.__class__ is Box:
        return is_live(obj)  # a box whose trace has ended is a constant
    if isinstance(obj, (list, tuple)):
        return any(_has_box(o) for o in obj)
    if isinstance(obj, dict):
        return any(_has_box(o) for o in obj.values())
    return False


def guarded(module, name, where):
    """Wrap ``module.name`` so it raises a helpful error if handed a traced value."""
    try:
        fun = getattr(module, name)
    except AttributeError:
        raise AttributeError(f"module {where!r} has no attribute {name!r}") from None
    if not callable(fun) or isinstance(fun, type):
        return fun

    @functools.wraps(fun)
    def no_rule(*args, **kwargs):
        for i, a in enumerate(args):
            if _has_box(a):
                raise NoDerivativeError(
                    f"{where}.{name} has no derivative rule, but argument {i} is a traced value "
                    f"(it depends on what is being differentiated). Use a differentiable "
                    f"function from {where} or compose it from them, or wrap the input in "
                    f"mini_autograd.stop_gradient if it is meant to be a constant."
                )
        for key, a in kwargs.items():
            if _has_box(a):
                raise NoDerivativeError(f"{where}.{name} has no derivative rule, but keyword "
                                        f"argument {key!r} is a traced value.")
        return fun(*args, **kwargs)

    no_rule._differentiable = False
    return no_rule
