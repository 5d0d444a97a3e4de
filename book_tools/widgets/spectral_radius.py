"""The spectral-radius widget of the backpropagation-through-time chapter.

A recurrent network ``h_t = act(W h_{t-1} + u x_t)`` has a loss ``L = r . h_T`` at its
last step only, so the adjoint ``a_t = dL/dh_t`` is the final error carried back through
``T - t`` transposed Jacobians.  How fast it shrinks or grows is the question.  Two
numbers describe ``W``: its spectral radius ``rho`` (the long run: ``||W^k||^(1/k) -> rho``)
and its largest singular value ``||W||_2`` (the worst single step).  They coincide for a
normal matrix and part company for a non-normal one.

The hard point is making the two controls independent.  ``recurrent_matrix`` builds
``W = Q (rho R + nu E) Q^T`` with ``R`` block-diagonal 2 x 2 rotations, ``E`` strictly
block upper triangular and ``Q`` orthogonal.  ``rho R + nu E`` is block triangular, so its
eigenvalues are those of its diagonal blocks, ``rho e^(+-i theta)``: the spectral radius is
``rho`` exactly, whatever the non-normality ``nu``.  At ``nu = 0``, ``W`` is ``rho`` times an
orthogonal matrix and ``||W||_2 = rho``; as ``nu`` grows only ``||W||_2`` does.

``spectral_report(rho, nonnormality, activation)``
    The computation, as plain data: ``||a_t|| / ||a_T||`` by the hand recursion, by
    ``mini_autograd`` and by ``autograd``, the lines ``rho^(T-t)`` and ``||W||_2^(T-t)``,
    and the transient peak.  The tests check it over the range of every control.
``build_widget(...)``
    Two sliders and an activation dropdown over a live figure.
``build_fallback(...)``
    The kernel-free fallback: the same figure for a sweep of one control, as a
    scrubbable player.
"""


import numpy as _np

from .animation import figure_png
from .html import img_tag

N_UNITS = 16
STEPS = 60
# name: (min, max, step, default).  The sliders and the tests both read this table.
CONTROLS = {
    "rho": (0.5, 1.5, 0.05, 0.9),
    "nonnormality": (0.0, 4.0, 0.25, 0.0),
}
ACTIVATIONS = ("linear", "tanh")
ENGINES = ("by hand", "mini_autograd", "autograd")
Y_RANGE = (1e-8, 1e12)      # fixed axes, so that moving a slider moves the curve only


def _checked(rho, nonnormality, activation):
    rho, nu = float(rho), float(nonnormality)
    if not (_np.isfinite(rho) and rho > 0):
        raise ValueError(f"spectral_report: rho (the spectral radius) must be a positive "
                         f"number; got {rho!r}.")
    if not (_np.isfinite(nu) and nu >= 0):
        raise ValueError(f"spectral_report: nonnormality must be a number >= 0 (0 gives a "
                         f"normal W); got {nonnormality!r}.")
    if activation not in ACTIVATIONS:
        raise ValueError(f"spectral_report: activation must be one of {ACTIVATIONS}; got "
                         f"{activation!r}.")
    return rho, nu, activation


def recurrent_matrix(rho, nonnormality, n=N_UNITS, seed=0):
    """``W = Q (rho R + nu E) Q^T``: spectral radius exactly ``rho`` for every ``nu``.

    ``R`` holds ``n/2`` rotations by random angles on its diagonal (an orthogonal matrix
    whose eigenvalues all have modulus 1), ``E`` is Gaussian strictly above those 2 x 2
    blocks (scaled by ``1/sqrt(n)``), ``Q`` is a random orthogonal matrix.  The same
    ``seed`` gives the same ``R``, ``E`` and ``Q``, so a slider changes one thing only.
    """
    if n % 2:
        raise ValueError(f"recurrent_matrix: n must be even (2 x 2 rotation blocks); got {n}.")
    rng = _np.random.default_rng(seed)
    angles = rng.uniform(0.2, _np.pi - 0.2, n // 2)
    R = _np.zeros((n, n))
    for i, a in enumerate(angles):
        R[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[_np.cos(a), -_np.sin(a)],
                                               [_np.sin(a), _np.cos(a)]]
    block = _np.arange(n) // 2
    E = _np.where(block[None, :] > block[:, None], rng.standard_normal((n, n)), 0.0)
    Q, _ = _np.linalg.qr(rng.standard_normal((n, n)))
    return Q @ (rho * R + nonnormality * E / _np.sqrt(n)) @ Q.T


def _problem(seed=1):
    """The inputs, input weights, initial state and read-out: fixed for every setting."""
    rng = _np.random.default_rng(seed)
    x = rng.standard_normal(STEPS)
    u = 0.5 * rng.standard_normal(N_UNITS)
    h0 = 0.1 * rng.standard_normal(N_UNITS)
    r = rng.standard_normal(N_UNITS)
    return x, u, h0, r / _np.linalg.norm(r)


def last_step_loss(np, W, activation, probes, x, u, h0, r):
    """``L = r . h_T``, with ``probes[t]`` added to ``h_t``: ``dL/dprobes[t]`` is ``a_t``.

    Written once for any NumPy-like module ``np``, so every engine runs the same code.
    """
    act = np.tanh if activation == "tanh" else (lambda z: z)
    h = h0 + probes[0]
    for t in range(1, len(probes)):
        h = act(np.dot(W, h) + u * x[t - 1]) + probes[t]
    return np.dot(r, h)


def adjoints_by_hand(W, activation, x, u, h0, r):
    """The BPTT recursion ``a_{t-1} = W^T (a_t * act'(z_t))``, ``a_T = r``."""
    hs = [h0]
    for t in range(1, STEPS + 1):
        z = W @ hs[-1] + u * x[t - 1]
        hs.append(_np.tanh(z) if activation == "tanh" else z)
    a = [None] * (STEPS + 1)
    a[STEPS] = r
    for t in range(STEPS, 0, -1):
        slope = 1 - hs[t] ** 2 if activation == "tanh" else 1.0
        a[t - 1] = W.T @ (a[t] * slope)
    return a


def spectral_report(rho=CONTROLS["rho"][3], nonnormality=CONTROLS["nonnormality"][3],
                    activation="linear"):
    """Adjoint norms (three ways) and the two reference lines for one setting.

    Returns a dict with keys

    ``rho``, ``nonnormality``, ``activation``
        The inputs.
    ``spectral_radius``, ``norm2``
        ``max |eig(W)|`` and ``||W||_2``, computed from the matrix built.
    ``steps_back``
        ``T - t`` for ``t = T, T-1, ..., 0`` (0 to ``STEPS``).
    ``norms``
        ``{engine: ||a_t|| / ||a_T||}`` in the order of ``steps_back``, for the engines in
        ``ENGINES`` ("by hand" is the recursion, the others differentiate
        :func:`last_step_loss`).
    ``rho_line``, ``bound_line``
        ``rho^(T-t)`` and ``||W||_2^(T-t)``; for the linear network the second is a bound
        that the norms never cross.
    ``peak``, ``peak_at``
        The largest norm ratio and how many steps back it occurs (transient growth when
        ``peak > 1``).
    ``rate``
        The per-step factor over the 30 steps furthest back.
    ``max_discrepancy``
        The largest relative difference between any two engines.
    """
    import autograd
    import autograd.numpy as anp

    import mini_autograd
    import mini_autograd.numpy as mnp

    rho, nu, activation = _checked(rho, nonnormality, activation)
    W = recurrent_matrix(rho, nu)
    x, u, h0, r = _problem()
    zeros = [_np.zeros(N_UNITS) for _ in range(STEPS + 1)]

    def by_engine(np, grad):
        g = grad(lambda p: last_step_loss(np, W, activation, p, x, u, h0, r))(zeros)
        return [_np.asarray(v, dtype=float) for v in g]

    adjoints = {
        "by hand": adjoints_by_hand(W, activation, x, u, h0, r),
        "mini_autograd": by_engine(mnp, mini_autograd.grad),
        "autograd": by_engine(anp, autograd.grad),
    }
    # t = T, T-1, ..., 0 so that index k is k steps back
    norms = {e: _np.array([_np.linalg.norm(a) for a in adjoints[e][::-1]]) for e in ENGINES}
    reference = _np.stack(adjoints["autograd"])
    scale = _np.maximum(_np.linalg.norm(reference, axis=1, keepdims=True), 1e-300)
    discrepancy = max(float(_np.max(_np.abs(_np.stack(adjoints[e]) - reference) / scale))
                      for e in ENGINES)
    steps_back = _np.arange(STEPS + 1)
    n = norms["by hand"]
    half = STEPS // 2
    return {
        "rho": rho, "nonnormality": nu, "activation": activation,
        "spectral_radius": float(_np.max(_np.abs(_np.linalg.eigvals(W)))),
        "norm2": float(_np.linalg.norm(W, 2)),
        "steps_back": steps_back, "norms": norms,
        "rho_line": rho ** steps_back.astype(float),
        "bound_line": _np.linalg.norm(W, 2) ** steps_back.astype(float),
        "peak": float(n.max()), "peak_at": int(n.argmax()),
        "rate": float((n[STEPS] / n[half]) ** (1 / (STEPS - half))),
        "max_discrepancy": discrepancy,
    }


# ------------------------------------------------------------------------ drawing

def draw(ax, report):
    """The adjoint norms against the steps back, with the two reference lines."""
    k = report["steps_back"]
    ax.clear()
    ax.semilogy(k, report["bound_line"], "--", color="#d62728", lw=1.2,
                label=r"$\|W\|_2^{\,T-t}$")
    ax.semilogy(k, report["rho_line"], ":", color="#111827", lw=1.4,
                label=r"$\rho^{\,T-t}$")
    ax.semilogy(k, report["norms"]["by hand"], color="#1f77b4", lw=2.2,
                label=r"$\|\mathbf{a}_t\| / \|\mathbf{a}_T\|$ (hand)")
    ax.semilogy(k[::6], report["norms"]["autograd"][::6], "x", color="#111827", ms=6,
                label="autograd")
    ax.axhline(1.0, color="#9ca3af", lw=0.8)
    ax.set_ylim(*Y_RANGE)
    ax.set_xlim(0, STEPS)
    ax.set_xlabel("steps back, $T - t$")
    ax.set_ylabel("adjoint norm")
    ax.set_title(f"{report['activation']}: ρ = {report['rho']:.2f}, "
                 f"ν = {report['nonnormality']:.1f}, ‖W‖₂ = {report['norm2']:.2f}; "
                 f"peak {report['peak']:.3g} at {report['peak_at']} steps back",
                 fontsize=10)
    ax.legend(loc="lower left", fontsize=8, ncol=2, frameon=False)


def alt_text(report):
    """What the figure shows, in words, for the ``alt`` attribute of its ``<img>``."""
    trend = "grows" if report["norms"]["by hand"][-1] > 1 else "shrinks"
    return (f"Adjoint norm against steps back for a {report['activation']} recurrent "
            f"network with spectral radius {report['rho']:.2f} and non-normality "
            f"{report['nonnormality']:.1f}: it peaks at {report['peak']:.3g} "
            f"{report['peak_at']} steps back and overall {trend}, "
            f"{report['rate']:.3f} per step far back, between the lines rho to the "
            f"power T minus t and the norm of W, {report['norm2']:.2f}, to that power.")


def render_png(report, dpi=80):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.2, 3.2))
    draw(ax, report)
    fig.tight_layout()
    return figure_png(fig, dpi, colours=64)


def picture_html(report, dpi=80):
    return img_tag(render_png(report, dpi), alt_text(report))


# ------------------------------------------------------------------------ live widget

def build_widget(rho=CONTROLS["rho"][3], nonnormality=CONTROLS["nonnormality"][3],
                 activation="linear"):
    """Sliders for ``rho`` and ``nu``, an activation dropdown and the live figure.

    The returned VBox has attributes ``sliders`` (name -> slider), ``activation`` (the
    Dropdown), ``panel`` (the HTML widget with the picture) and ``report()`` (the report
    drawn last).
    """
    import ipywidgets as widgets

    _checked(rho, nonnormality, activation)
    sliders = {}
    for name, value in (("rho", rho), ("nonnormality", nonnormality)):
        lo, hi, step, _ = CONTROLS[name]
        sliders[name] = widgets.FloatSlider(
            value=float(value), min=lo, max=hi, step=step,
            description="ρ(W)" if name == "rho" else "non-normal ν",
            continuous_update=False, readout_format=".2f",
            style={"description_width": "90px"}, layout=widgets.Layout(width="330px"))
    dropdown = widgets.Dropdown(options=list(ACTIVATIONS), value=activation,
                                description="activation",
                                style={"description_width": "90px"},
                                layout=widgets.Layout(width="230px"))
    panel = widgets.HTML()
    last = {}

    def update(_change=None):
        last["report"] = spectral_report(sliders["rho"].value,
                                         sliders["nonnormality"].value, dropdown.value)
        panel.value = picture_html(last["report"])

    for w in (*sliders.values(), dropdown):
        w.observe(update, names="value")
    update()
    box = widgets.VBox([widgets.HBox([*sliders.values(), dropdown],
                                     layout=widgets.Layout(flex_flow="row wrap")), panel])
    box.sliders, box.activation, box.panel = sliders, dropdown, panel
    box.report = lambda: last["report"]
    return box


# ------------------------------------------------------------------------ fallback

def build_fallback(sweep="nonnormality", values=None, rho=CONTROLS["rho"][3],
                   nonnormality=CONTROLS["nonnormality"][3], activation="linear", dpi=60,
                   fps=2, name="spectral_radius"):
    """A scrubbable player sweeping ``"rho"`` or ``"nonnormality"``, the others fixed.

    Raises AssertionError if, in any frame, the three engines disagree.  Deterministic
    output; returns ``IPython.display.HTML``.
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    from . import scrubbable_animation

    if sweep not in CONTROLS:
        raise ValueError(f"build_fallback: sweep must be one of {list(CONTROLS)}; got "
                         f"{sweep!r}.")
    _checked(rho, nonnormality, activation)
    if values is None:
        lo, hi, _, _ = CONTROLS[sweep]
        values = _np.linspace(lo, hi, 9)
    settings = [{"rho": rho, "nonnormality": nonnormality, "activation": activation,
                 sweep: float(v)} for v in values]
    reports = [spectral_report(**s) for s in settings]
    for r in reports:
        if r["max_discrepancy"] > 1e-9:
            raise AssertionError(f"build_fallback: engines disagree by "
                                 f"{r['max_discrepancy']:.2e} at rho = {r['rho']}, "
                                 f"nu = {r['nonnormality']}.")
    with mpl.rc_context({"savefig.dpi": dpi, "animation.frame_format": "png",
                         "font.size": 10}):
        fig, ax = plt.subplots(figsize=(7.2, 3.2), facecolor="white")

        def update(j):
            draw(ax, reports[j])
            return []

        update(0)
        fig.tight_layout()
        return scrubbable_animation(fig, update, range(len(reports)), fps=fps, name=name,
                                    colours=64)
