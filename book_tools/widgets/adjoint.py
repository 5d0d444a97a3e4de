"""The adjoint widget of the 4D-Var chapter: the adjoint model, one backward step at a time.

The model is chapter 13's: Lorenz-63 advanced by forward-Euler steps
``x_{k+1} = M(x_k) = x_k + DT f(x_k)``, an identical-twin experiment (the truth starts on
the attractor, the background is the truth plus noise of size ``SIGMA_B``), and noisy
observations (noise ``SIGMA_O``) of one Lorenz variable, or all three, every
``obs_every`` steps of a window of ``N`` steps.  The 4D-Var cost is

    J(x_0) = |x_0 - x_b|^2 / (2 SIGMA_B^2) + sum_{k observed} |H x_k - y_k|^2 / (2 SIGMA_O^2)

and its adjoint runs backward from ``lambda_{N+1} = 0``:
``lambda_k = M'(x_k)^T lambda_{k+1} + H^T (H x_k - y_k) / SIGMA_O^2`` (the second term
only at observation steps), with the background term added at ``k = 0``, where
``lambda_0`` is the gradient of ``J``.  Three functions, one job each:

``adjoint_report(k, N, obs_every, observed, bug)``
    The computation, as plain data: the trajectories, the observations, every
    ``lambda_j`` three ways (the adjoint model by hand, with or without a deliberate
    bug; ``mini_autograd`` and HIPS ``autograd``, each as the gradient of ``J`` with
    respect to a zero perturbation of every state), the jumps at the observations, the
    step where a wrong adjoint first departs from the engines, and the cost along a
    line through the truth.  This is what the tests check over every control's range.
``build_widget(...)``
    The live version: a cursor ``k`` (from ``N`` down to 0), the window ``N``, the
    observation interval, the observed variable and the bug switch; a figure and a small
    table recomputed from ``adjoint_report`` whenever one moves.
``build_fallback(...)``
    The kernel-free fallback for the static HTML book: the same figure for a sweep of
    the cursor from ``N`` to 0, rendered once into a scrubbable player.
"""

import functools
import html as _html

import numpy as _np

from . import html_table
from .animation import figure_png
from .html import img_tag

SIGMA, RHO, BETA = 10.0, 28.0, 8.0 / 3.0   # Lorenz's parameters
DT = 0.01                                  # Euler step, as in chapter 13
SIGMA_O, SIGMA_B = 1.0, 2.0                # observation and background error scales
SPIN_UP = 1000                             # steps from (1, 1, 1) onto the attractor
SEED = 13

# name: (min, max, step, default) for the sliders; the tests read this table too.
CONTROLS = {
    "N": (10, 300, 10, 150),
    "obs_every": (1, 30, 1, 10),
}
OBSERVED = {"x": (0,), "y": (1,), "z": (2,), "all": (0, 1, 2)}
BUGS = ("off", "forgotten transpose", "Jacobian at the wrong step")
ENGINES = ("by hand", "mini_autograd", "autograd")
DEFAULTS = {"N": 150, "obs_every": 10, "observed": "x", "bug": "off"}
LINE_SPAN, LINE_POINTS = 6.0, 241          # the cost along x_true + a e, |a| <= 6
# Two exact computations of one adjoint differ by rounding only: a relative 1e-9
# separates that from any bug (a bug's first error is of order DT * |Df| ~ 0.3).
AGREE_RTOL = 1e-9


# ------------------------------------------------------------------------ the model

def lorenz63(np, s):
    """The Lorenz-63 right-hand side f(s), for a state ``s`` of shape (3,) or (3, m)."""
    x, y, z = s[0], s[1], s[2]
    return np.stack([SIGMA * (y - x), x * (RHO - z) - y, x * y - BETA * z])


def euler_step(np, s):
    """The model M: one forward-Euler step of length DT."""
    return s + DT * lorenz63(np, s)


def trajectory(np, x0, n_steps):
    """x_0, x_1, ..., x_N as an (N + 1, 3) array (or (N + 1, 3, m) for m starts)."""
    states = [x0]
    for _ in range(n_steps):
        states.append(euler_step(np, states[-1]))
    return np.stack(states)


def lorenz63_jacobian(s):
    """Df(s), the 3 x 3 Jacobian of the right-hand side."""
    x, y, z = s
    return _np.array([[-SIGMA, SIGMA, 0.0],
                      [RHO - z, -1.0, -x],
                      [y, x, -BETA]])


def _step_vjp(xs, j, lam, bug):
    """M'(x_j)^T lam, right or with one of the two classic bugs."""
    if bug == "off":
        return lam + DT * lorenz63_jacobian(xs[j]).T @ lam
    if bug == "forgotten transpose":
        return lam + DT * lorenz63_jacobian(xs[j]) @ lam
    return lam + DT * lorenz63_jacobian(xs[j + 1]).T @ lam   # the step's end, not start


# ------------------------------------------------------------------------ the experiment

@functools.cache
def _twin():
    """The truth's initial state, the background and a noise draw for every step."""
    x_true = trajectory(_np, _np.array([1.0, 1.0, 1.0]), SPIN_UP)[-1]
    rng = _np.random.default_rng(SEED)
    x_b = x_true + SIGMA_B * rng.standard_normal(3)
    noise = SIGMA_O * rng.standard_normal((CONTROLS["N"][1] + 1, 3))
    return x_true, x_b, noise


def _checked(N, obs_every, observed, bug):
    def integer_in(name, value):
        lo, hi, step, _ = CONTROLS[name]
        if isinstance(value, bool) or int(value) != value or not lo <= value <= hi \
                or (int(value) - lo) % step:
            raise ValueError(f"adjoint_report: {name} must be an integer from {lo} to {hi} "
                             f"in steps of {step}; got {value!r}.")
        return int(value)

    N, obs_every = integer_in("N", N), integer_in("obs_every", obs_every)
    if observed not in OBSERVED:
        raise ValueError(f"adjoint_report: observed must be one of {list(OBSERVED)}; "
                         f"got {observed!r}.")
    if bug not in BUGS:
        raise ValueError(f"adjoint_report: bug must be one of {list(BUGS)}; got {bug!r}.")
    return N, obs_every, observed, bug


def experiment(N=DEFAULTS["N"], obs_every=DEFAULTS["obs_every"],
               observed=DEFAULTS["observed"]):
    """The twin experiment for one window: truth, background, H and the observations.

    Returns a dict with ``x_true``, ``x_b``, ``truth`` and ``background`` (the two
    trajectories, (N + 1, 3)), ``H`` (rows of the identity for the observed variables),
    ``obs`` (step -> observed values ``H x_k + noise``, for k = 0, obs_every, ... <= N),
    ``n_steps``, ``sigma_o`` and ``sigma_b`` (the keys of chapter 13's ``data``).
    """
    N, obs_every, observed, _ = _checked(N, obs_every, observed, "off")
    x_true, x_b, noise = _twin()
    H = _np.eye(3)[list(OBSERVED[observed])]
    truth = trajectory(_np, x_true, N)
    obs = {k: H @ (truth[k] + noise[k]) for k in range(0, N + 1, obs_every)}
    return {"x_true": x_true, "x_b": x_b, "truth": truth,
            "background": trajectory(_np, x_b, N), "H": H, "obs": obs, "n_steps": N,
            "sigma_o": SIGMA_O, "sigma_b": SIGMA_B}


def cost(np, x0, exp, kicks=None):
    """J(x_0) for the experiment ``exp``; ``kicks[k]`` is added to x_k before it is used.

    At ``kicks = 0`` nothing changes, but the gradient with respect to ``kicks[k]`` is
    the gradient with respect to x_k itself: the engines' adjoint of x_k.
    """
    H = exp["H"]
    J = 0.5 * np.sum((x0 - exp["x_b"]) ** 2) / exp["sigma_b"] ** 2
    x = x0
    for k in range(exp["n_steps"] + 1):
        if kicks is not None:
            x = x + kicks[k]
        if k in exp["obs"]:
            J = J + 0.5 * np.sum((H @ x - exp["obs"][k]) ** 2) / exp["sigma_o"] ** 2
        if k < exp["n_steps"]:
            x = euler_step(np, x)
    return J


def hand_adjoint(exp, x0, bug="off"):
    """Every lambda_k by the adjoint model, and the observation jump added at each step.

    Returns ``(lams, jumps)``: ``lams[k]`` is lambda_k ((N + 1, 3); ``lams[0]`` is the
    gradient of J), ``jumps`` maps each observation step k to H^T (H x_k - y_k) / SIGMA_O^2.
    """
    H, N = exp["H"], exp["n_steps"]
    xs = trajectory(_np, x0, N)
    lams, jumps = _np.zeros_like(xs), {}
    lam = _np.zeros(3)                       # nothing after the window
    for k in range(N, -1, -1):
        if k < N:
            lam = _step_vjp(xs, k, lam, bug)
        if k in exp["obs"]:
            jumps[k] = H.T @ (H @ xs[k] - exp["obs"][k]) / exp["sigma_o"] ** 2
            lam = lam + jumps[k]
        if k == 0:
            lam = lam + (x0 - exp["x_b"]) / exp["sigma_b"] ** 2
        lams[k] = lam
    return lams, jumps


def _line_cost(exp, starts):
    """J for many initial states at once (``starts`` is (3, m)): the cost along a line."""
    H, xs = exp["H"], trajectory(_np, starts, exp["n_steps"])      # (N + 1, 3, m)
    J = 0.5 * _np.sum((starts - exp["x_b"][:, None]) ** 2, axis=0) / exp["sigma_b"] ** 2
    for k, y in exp["obs"].items():
        J = J + 0.5 * _np.sum((H @ xs[k] - y[:, None]) ** 2, axis=0) / exp["sigma_o"] ** 2
    return J


def count_local_minima(values):
    """Interior local minima of a sampled curve (a fall followed by a rise)."""
    slope = _np.diff(values)
    return int(_np.sum((slope[:-1] < 0) & (slope[1:] >= 0)))


@functools.lru_cache(maxsize=128)
def _engine_window(N, obs_every, observed):
    """What does not depend on the bug or the cursor: the experiment, both engines'
    lambda_j and the cost along the line (cached: the controls move often)."""
    import autograd
    import autograd.numpy as anp

    import mini_autograd
    import mini_autograd.numpy as mnp

    exp = experiment(N, obs_every, observed)
    x0 = exp["x_b"]                                  # the first guess of 4D-Var
    no_kicks = _np.zeros((N + 1, 3))
    lams = {
        "mini_autograd": _np.asarray(mini_autograd.grad(
            lambda d: cost(mnp, x0, exp, kicks=d))(no_kicks), dtype=float),
        "autograd": _np.asarray(autograd.grad(
            lambda d: cost(anp, x0, exp, kicks=d))(no_kicks), dtype=float),
    }
    direction = _np.random.default_rng(SEED).standard_normal(3)
    direction /= _np.linalg.norm(direction)
    a = _np.linspace(-LINE_SPAN, LINE_SPAN, LINE_POINTS)
    line_cost = _line_cost(exp, exp["x_true"][:, None] + direction[:, None] * a)
    for v in (*lams.values(), line_cost, direction):
        v.setflags(write=False)
    return {"exp": exp, "lams": lams, "line_a": a, "line_direction": direction,
            "line_cost": line_cost, "line_minima": count_local_minima(line_cost)}


def _window(N, obs_every, observed, bug):
    """The engines' window plus the hand adjoint (with the bug) and where it departs."""
    w = _engine_window(N, obs_every, observed)
    lams_hand, jumps = hand_adjoint(w["exp"], w["exp"]["x_b"], bug)
    lams_hand.setflags(write=False)
    lams = {"by hand": lams_hand, **w["lams"]}
    scale = float(_np.max(_np.abs(lams["autograd"])))
    off = _np.max(_np.abs(lams["by hand"] - lams["autograd"]), axis=1) > AGREE_RTOL * scale
    # lambda is computed from k = N down to 0, so the first wrong one has the largest k
    departs_at = int(_np.flatnonzero(off).max()) if off.any() else None
    return {**w, "lams": lams, "jumps": jumps, "departs_at": departs_at, "scale": scale}


def adjoint_report(k=None, N=DEFAULTS["N"], obs_every=DEFAULTS["obs_every"],
                   observed=DEFAULTS["observed"], bug=DEFAULTS["bug"]):
    """The adjoint of the 4D-Var cost at the background, for one setting of the controls.

    ``k`` is the cursor, from ``N`` (the end of the window, default) down to 0.  Returns
    a dict with keys

    ``k``, ``N``, ``obs_every``, ``observed``, ``bug``
        The controls.
    ``t``, ``truth``, ``background``, ``H``, ``obs``, ``x_b``, ``x_true``
        Times ``DT * j``, the two trajectories ((N + 1, 3)), the observation operator,
        the observations (step -> values) and the two initial states.
    ``lams``
        ``{engine: (N + 1, 3) array}`` for ``ENGINES``: lambda_j for j = 0..N.  ``"by
        hand"`` is the adjoint model (with the chosen bug); the engines' values are the
        gradients of J with respect to a zero kick added to each x_j.
    ``lambda_k``
        ``{engine: lambda_k}``: the three values at the cursor.
    ``jumps``
        Observation step -> H^T (H x_j - y_j) / SIGMA_O^2, the jump the adjoint takes there.
    ``revealed``
        The steps j = N, N-1, ..., k the backward sweep has reached.
    ``departs_at``
        The largest j (the first one computed) where the hand adjoint differs from
        autograd's by more than ``AGREE_RTOL`` of the largest |lambda|; None if never.
    ``max_discrepancy``, ``scale``
        The largest difference between any two engines' lambda_k at the cursor, and the
        largest |lambda_j| of autograd over the window (what tolerances are relative to).
    ``line_a``, ``line_direction``, ``line_cost``, ``line_minima``
        J along x_true + a e for the unit vector e (seeded), and its number of local
        minima.
    """
    N, obs_every, observed, bug = _checked(N, obs_every, observed, bug)
    if k is None:
        k = N
    if isinstance(k, bool) or int(k) != k or not 0 <= k <= N:
        raise ValueError(f"adjoint_report: the cursor k must be an integer from 0 to "
                         f"N = {N}; got {k!r}.")
    k = int(k)
    w = _window(N, obs_every, observed, bug)
    exp = w["exp"]
    at_k = {e: w["lams"][e][k] for e in ENGINES}
    table = _np.stack(list(at_k.values()))
    return {
        "k": k, "N": N, "obs_every": obs_every, "observed": observed, "bug": bug,
        "t": DT * _np.arange(N + 1), "truth": exp["truth"],
        "background": exp["background"], "H": exp["H"], "obs": exp["obs"],
        "x_b": exp["x_b"], "x_true": exp["x_true"],
        "lams": w["lams"], "lambda_k": at_k, "jumps": w["jumps"],
        "revealed": list(range(N, k - 1, -1)), "departs_at": w["departs_at"],
        "scale": w["scale"],
        "max_discrepancy": float(_np.max(table.max(axis=0) - table.min(axis=0))),
        "line_a": w["line_a"], "line_direction": w["line_direction"],
        "line_cost": w["line_cost"],
        "line_minima": w["line_minima"],
    }


# ------------------------------------------------------------------------ as HTML

_STYLE = ("font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; "
          "font-size: 13px; color: #111827; background: #ffffff; padding: 6px 8px;")
_TABLE = "border-collapse: collapse; margin: 4px 0 8px 0;"
_CELL = "border: 1px solid #d1d5db; padding: 2px 6px; text-align: right;"
_HEAD = _CELL + " background: #f3f4f6; text-align: center;"


def report_html(report):
    """λ_k three ways at the cursor, and where a wrong adjoint departs (no TeX)."""
    k = report["k"]
    rows = [([name, *(f"{float(report['lambda_k'][e][i]) + 0.0:+.6g}" for e in ENGINES)], "")
            for i, name in enumerate(("x", "y", "z"))]
    table = html_table([f"λ_{k}", *ENGINES], rows, _TABLE, _CELL, _HEAD)
    ok = report["max_discrepancy"] <= AGREE_RTOL * max(1.0, report["scale"])
    verdict = ("all three agree" if ok
               else f"the hand adjoint is off by {report['max_discrepancy']:.3g}")
    where = report["departs_at"]
    if where is None and report["bug"] != "off":
        depart = ("The bug changes nothing here: no observation after step 0, so there is "
                  "no adjoint to carry back through the steps.")
    elif where is None:
        depart = "The hand adjoint equals the engines' at every step of the window."
    else:
        last = max(report["obs"])
        depart = (f"Bug “{_html.escape(report['bug'])}”: the hand adjoint first departs "
                  f"from the engines at step {where}, {last - where} step"
                  f"{'s' if last - where > 1 else ''} before the last observation "
                  f"(step {last}), and is wrong from there down to step 0.")
    jump = report["jumps"].get(k)
    jump_text = ("" if jump is None else
                 f" Step {k} is an observation: the adjoint jumps by "
                 f"Hᵀ(Hx−y)/σ² = ({', '.join(f'{v:+.3g}' for v in jump)}).")
    return (f'<div style="{_STYLE}"><b>cursor k = {k} (t = {DT * k:.2f}); window N = '
            f'{report["N"]}, observe {report["observed"]} every {report["obs_every"]} '
            f'steps</b>{table}λ_{k} {verdict}.{jump_text}<br><small>{depart}</small></div>')


# ------------------------------------------------------------------------ the figure

_COLORS = ("C0", "C1", "C2")


def _figure(report, dpi=72):
    """The four panels for one window; returns ``(fig, update)`` with update(k) moving the
    cursor (only the cursor-dependent artists change)."""
    import matplotlib.pyplot as plt

    N, t = report["N"], report["t"]
    lams = report["lams"]
    fig, axes = plt.subplots(2, 2, figsize=(9.0, 5.6), dpi=dpi, facecolor="white")
    ax_x, ax_l, ax_k, ax_j = axes.ravel()
    obs_steps = sorted(report["obs"])
    observed = OBSERVED[report["observed"]]

    for i, name in enumerate("xyz"):
        ax_x.plot(t, report["truth"][:, i], color=_COLORS[i], lw=1.4, label=name)
        ax_x.plot(t, report["background"][:, i], color=_COLORS[i], lw=1.0, ls="--")
    for row, i in enumerate(observed):
        ax_x.plot(DT * _np.array(obs_steps), [report["obs"][s][row] for s in obs_steps],
                  "o", color=_COLORS[i], ms=3.5, mec="black", mew=0.5)
    ax_x.set(xlabel="time t")
    ax_x.set_title(f"truth (solid), background (dashed), observations (dots); "
                   f"N = {N}", fontsize=9)
    ax_x.legend(fontsize=7, loc="upper left", ncol=3, frameon=False, handlelength=1.2)
    cursor_x = ax_x.axvline(t[-1], color="black", lw=1.0)

    for s in obs_steps:
        ax_l.axvline(DT * s, color="0.85", lw=0.6, zorder=0)
    # the limits follow the right adjoint; a buggy one may leave the panel
    lim = 1.15 * max(float(_np.max(_np.abs(lams["autograd"]))), 1e-12)
    ax_l.set_ylim(-lim, lim)
    ax_l.set_xlim(t[0], t[-1])
    # autograd's adjoint as a wide grey band under the hand one: they coincide when
    # the hand adjoint is right, and part where it is wrong
    ag_lines = [ax_l.plot([], [], color="0.55", lw=4.0, alpha=0.45, zorder=1)[0]
                for _ in range(3)]
    ag_lines[0].set_label("autograd")
    hand_lines = [ax_l.plot([], [], color=_COLORS[i], lw=1.3, zorder=2,
                            label=f"λ {n} by hand")[0] for i, n in enumerate("xyz")]
    jump_marks, = ax_l.plot([], [], "o", color="black", ms=3, zorder=3,
                            label="jump at an obs.")
    cursor_l = ax_l.axvline(t[-1], color="black", lw=1.0)
    departs = report["departs_at"]
    depart_line = ax_l.axvline(DT * departs if departs is not None else -1.0,
                               color="red", lw=1.2, visible=False,
                               label="departs" if departs is not None else None)
    ax_l.set(xlabel="time t  (computed right to left ←)")
    ax_l.legend(fontsize=7, loc="lower left", ncol=3, frameon=False, handlelength=1.2,
                columnspacing=0.8)
    title_l = ax_l.set_title("", fontsize=10)

    xs = _np.arange(3)
    width = 0.26
    bars = {e: ax_k.bar(xs + (j - 1) * width, _np.zeros(3), width=width,
                        color=("C3", "C0", "0.4")[j], label=e)
            for j, e in enumerate(ENGINES)}
    ax_k.axhline(0, color="0.4", lw=0.6)
    ax_k.set_ylim(-lim, lim)
    ax_k.set_xticks(xs, ["λ x", "λ y", "λ z"])
    ax_k.legend(fontsize=7, loc="lower left", ncol=3, frameon=False)
    title_k = ax_k.set_title("", fontsize=10)

    ax_j.semilogy(report["line_a"], report["line_cost"], color="C0", lw=1.4)
    ax_j.axvline(0, color="0.6", lw=0.8, ls=":")
    minima = report["line_minima"]
    ax_j.set(xlabel="a  (x₀ = truth + a e)", ylabel="J",
             title=f"cost along a line: {minima} local minim{'um' if minima == 1 else 'a'}")
    ax_j.title.set_fontsize(10)

    def update(k):
        done = slice(k, N + 1)
        for i in range(3):
            hand_lines[i].set_data(t[done], lams["by hand"][done, i])
            ag_lines[i].set_data(t[done], lams["autograd"][done, i])
        seen = [s for s in obs_steps if s >= k]
        jump_marks.set_data(_np.repeat(DT * _np.array(seen, dtype=float), len(observed)),
                            lams["by hand"][seen][:, list(observed)].ravel())
        cursor_x.set_xdata([t[k], t[k]])
        cursor_l.set_xdata([t[k], t[k]])
        depart_line.set_visible(departs is not None and departs >= k)
        title_l.set_text(f"adjoint λ_j for j = {N} down to {k}")
        for e in ENGINES:
            for bar, v in zip(bars[e], lams[e][k]):
                bar.set_height(v)
        title_k.set_text(f"λ_{k} three ways" + (
            "" if departs is None or departs < k else " (hand ≠ engines)"))
        return []

    update(report["k"])
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.09, top=0.9, hspace=0.42,
                        wspace=0.18)
    return fig, update


def _png(fig, colors=64):
    """The figure as PNG bytes, with a palette of ``colors`` colours (see below)."""
    return figure_png(fig, fig.dpi, colours=colors)


def picture_alt_text(report):
    """What the four panels show, in words, for the ``alt`` attribute of their ``<img>``."""
    k, N = report["k"], report["N"]
    lam = {e: ", ".join(f"{v:+.3g}" for v in report["lambda_k"][e]) for e in ENGINES}
    where = report["departs_at"]
    bug = ("no bug: the hand adjoint lies on autograd's band at every step"
           if report["bug"] == "off" else
           f"bug '{report['bug']}': " + ("it changes nothing here" if where is None else
                                        f"the hand adjoint leaves autograd's band at step "
                                        f"{where}"))
    minima = report["line_minima"]
    return (f"Four panels for a window of {N} steps, {report['observed']} observed every "
            f"{report['obs_every']} steps, cursor at k = {k}. Trajectory of x, y and z, truth "
            f"and background, with the observations. The adjoint drawn from step {N} down "
            f"to {k}, jumping at each observation; {bug}. Lambda_{k} by hand ({lam['by hand']}),"
            f" by mini_autograd ({lam['mini_autograd']}) and by autograd "
            f"({lam['autograd']}). The cost along a line through the truth, with {minima} "
            f"local minim{'um' if minima == 1 else 'a'}.")


def picture_html(png, report):
    """The PNG as an ``<img>`` with an alt text, for an ``HTML`` widget."""
    return img_tag(png, picture_alt_text(report))


# ------------------------------------------------------------------------ live widget

def build_widget(N=DEFAULTS["N"], obs_every=DEFAULTS["obs_every"],
                 observed=DEFAULTS["observed"], bug=DEFAULTS["bug"], dpi=72):
    """Sliders for k, N and the observation interval, menus for the observed variable and
    the bug; a figure and the λ_k table, recomputed whenever a control moves.

    The returned HBox has extra attributes for programmatic use: ``controls`` (name ->
    widget: ``k``, ``N``, ``obs_every``, ``observed``, ``bug``), ``image`` (the figure:
    an ``HTML`` widget holding an ``<img>`` with an alt text that says what it shows,
    since an ipywidgets ``Image`` cannot carry one) and ``panel`` (the HTML table).
    """
    import ipywidgets as widgets

    N, obs_every, observed, bug = _checked(N, obs_every, observed, bug)
    wide = widgets.Layout(width="330px")
    controls = {
        "k": widgets.IntSlider(value=N, min=0, max=N, step=1, description="cursor k",
                               continuous_update=False, layout=wide),
        "N": widgets.IntSlider(value=N, min=CONTROLS["N"][0], max=CONTROLS["N"][1],
                               step=CONTROLS["N"][2], description="window N",
                               continuous_update=False, layout=wide),
        "obs_every": widgets.IntSlider(
            value=obs_every, min=CONTROLS["obs_every"][0], max=CONTROLS["obs_every"][1],
            step=CONTROLS["obs_every"][2], description="obs every",
            continuous_update=False, layout=wide),
        "observed": widgets.Dropdown(options=list(OBSERVED), value=observed,
                                     description="observe", layout=wide),
        "bug": widgets.Dropdown(options=list(BUGS), value=bug, description="bug",
                                layout=wide),
    }
    image = widgets.HTML(layout=widgets.Layout(width="648px"))
    panel = widgets.HTML()

    quiet = []    # non-empty while new_window moves the cursor: one redraw, not three

    def redraw(_change=None):
        if quiet:
            return
        c = {name: w.value for name, w in controls.items()}
        report = adjoint_report(c["k"], c["N"], c["obs_every"], c["observed"], c["bug"])
        fig, _ = _figure(report, dpi=dpi)
        image.value = picture_html(_png(fig), report)
        panel.value = report_html(report)

    def new_window(change):
        # a new window puts the cursor back at its end, where the backward sweep starts
        quiet.append(True)
        try:
            controls["k"].max = change["new"]
            controls["k"].value = change["new"]
        finally:
            quiet.clear()
        redraw()

    controls["N"].observe(new_window, names="value")
    for name in ("k", "obs_every", "observed", "bug"):
        controls[name].observe(redraw, names="value")
    redraw()
    left = widgets.VBox([*controls.values(), panel],
                        layout=widgets.Layout(width="350px", min_width="350px"))
    box = widgets.HBox([left, image], layout=widgets.Layout(flex_flow="row wrap"))
    box.controls = controls
    box.image = image
    box.panel = panel
    return box


# ------------------------------------------------------------------------ fallback

def build_fallback(n_frames=7, N=DEFAULTS["N"], obs_every=DEFAULTS["obs_every"],
                   observed=DEFAULTS["observed"], bug=DEFAULTS["bug"], dpi=64, fps=2,
                   colors=64, name="adjoint"):
    """A scrubbable player moving the cursor k from N down to 0 in ``n_frames`` frames.

    Raises AssertionError if the bug is off and, at any frame, the three λ_k disagree.
    Deterministic output; returns ``IPython.display.HTML``.
    """
    from . import scrubbable_animation

    if int(n_frames) != n_frames or n_frames < 2:
        raise ValueError(f"build_fallback: n_frames must be an integer >= 2; "
                         f"got {n_frames!r}.")
    report = adjoint_report(None, N, obs_every, observed, bug)
    ks = [round(float(v)) for v in _np.linspace(report["N"], 0, int(n_frames))]
    if bug == "off":
        for k in ks:
            r = adjoint_report(k, N, obs_every, observed, bug)
            if r["max_discrepancy"] > AGREE_RTOL * max(1.0, r["scale"]):
                raise AssertionError(f"build_fallback: λ_{k} differs between the hand "
                                     f"adjoint and the engines by {r['max_discrepancy']}.")
    import matplotlib as mpl

    with mpl.rc_context({"savefig.dpi": dpi, "animation.frame_format": "png"}):
        fig, update = _figure(report, dpi=dpi)
        return scrubbable_animation(fig, update, ks, fps=fps, name=name, colours=colors)

