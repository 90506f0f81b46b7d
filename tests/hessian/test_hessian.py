"""Numerics of the Hessian toolkit (floss.hessian): HVPs, eigen-solvers, trace, SLQ."""

import numpy as np
import pytest
import torch

from floss.hessian import analytic_hvp, eigen, hvp, model
from floss.rnn.cells import init_networks
from floss.rnn.tasks import Task

F64 = torch.float64
# torch.func.jvp makes torch script its jvp decompositions, deprecated in torch itself;
# floss.hessian.hvp silences that once (no floss code is scripted): keep it from coming back
pytestmark = pytest.mark.filterwarnings("error:`torch.jit.script` is deprecated:DeprecationWarning")


def _reference_problem(m=2, n_in=3, n_rec=5, n_out=3, steps=4, batch=7):
    """A reference ReLU RNN small enough for the dense Hessian, float64."""
    params = model.init_params(list(range(m)), n_in, n_rec, n_out, dtype=F64)
    params.pop("feedback")
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(steps, batch, n_in, generator=gen, dtype=F64)
    labels = torch.randint(0, n_out, (batch,), generator=gen)
    return params, model.true_loss(x, labels, 1e-2)


def _dense(loss, params, names, m):
    """Per-network dense Hessian by torch.autograd.functional.hessian (independent path)."""
    out = []
    for i in range(m):
        fixed = {n: p[i : i + 1] for n, p in params.items()}

        def f(*flat, fixed=fixed):
            sub = dict(fixed)
            for n, t in zip(names, flat):
                sub[n] = t[None]
            return loss(sub)[0]

        blocks = torch.autograd.functional.hessian(f, tuple(params[n][i] for n in names))
        sizes = [params[n][i].numel() for n in names]
        rows = [
            torch.cat([b.reshape(r, -1) for b, r in zip(row, [s] * len(sizes))], 1)
            for row, s in zip(blocks, sizes)
        ]
        out.append(torch.cat(rows, 0))
    return torch.stack(out)


@pytest.mark.parametrize("names", [("W_rec",), model.PARAMS])
def test_lanczos_power_match_dense_hessian(names):
    params, loss = _reference_problem()
    op = hvp.double_backward(loss, params, names)
    dense = _dense(loss, params, names, 2)
    # the operator is each network's own block of the Hessian (block-diagonal batching)
    torch.testing.assert_close(hvp.dense(op), dense, rtol=1e-10, atol=1e-12)
    ev = torch.linalg.eigvalsh(dense).flip(-1)
    k = 4
    res = eigen.lanczos(op, k, torch.Generator().manual_seed(1), max_iter=op.size, tol=1e-10)
    # full Krylov space in float64: Ritz values are eigenvalues up to rounding; 1e-6 relative
    # is the bar
    torch.testing.assert_close(res.values, ev[:, :k], rtol=1e-6, atol=1e-9)
    assert (res.residuals <= 1e-8 * ev[:, :1].abs()).all()
    pw = eigen.power_iteration(op, torch.Generator().manual_seed(2), tol=1e-6, max_iter=500)
    top = ev.abs().amax(1)
    # tol 1e-6 absolute on successive ||Hv||: the limit is within a few 1e-6 (relative gap
    # here is > 1e-2, so the geometric tail sum stays below 1e-4)
    assert pw.converged.all()
    torch.testing.assert_close(pw.value, top, rtol=1e-4, atol=1e-6)
    signed = ev.gather(1, ev.abs().argmax(1, keepdim=True))[:, 0]
    assert torch.equal(torch.sign(pw.rayleigh), torch.sign(signed))


def test_hvp_matches_finite_difference_of_gradients():
    params, loss = _reference_problem()
    names = model.PARAMS
    op = hvp.double_backward(loss, params, names)
    v = torch.randn(2, 1, op.size, generator=torch.Generator().manual_seed(3), dtype=F64)
    space = op.space

    def grad(shift):
        moved = dict(params)
        for n, d in zip(names, space.unflatten(shift)):
            moved[n] = (params[n] + d).requires_grad_()
        g = torch.autograd.grad(loss(moved).sum(), [moved[n] for n in names])
        return space.flatten(g)

    eps = 1e-6
    fd = (grad(eps * v[:, 0]) - grad(-eps * v[:, 0])) / (2 * eps)
    # central difference: O(eps^2) truncation, O(1e-16/eps) rounding -> ~1e-9 (ReLU kinks are
    # not crossed at this eps for this draw)
    torch.testing.assert_close(op(v)[:, 0], fd, rtol=1e-6, atol=1e-8)


def _vanilla_problem(batch_x0=3):
    cell = init_networks("vanilla", [1, 2], 6, batch=batch_x0, dtype=F64)
    task = Task.from_name("xor", 2, 12)
    s, y = task.sample(5, torch.Generator().manual_seed(0))
    return cell, s, y, task.t0


@pytest.mark.parametrize("names", [("J",), analytic_hvp.NAMES, ("W_in", "x0", "c")])
def test_analytic_vanilla_hvp_matches_double_backward(names):
    cell, s, y, t0 = _vanilla_problem()
    loss = analytic_hvp.task_loss(cell, s, y, t0)
    db = hvp.double_backward(loss, cell.param_dict(), names, copies=3)
    an = analytic_hvp.analytic(cell, s, y, t0, names, block=2)
    v = torch.randn(2, 3, db.size, generator=torch.Generator().manual_seed(4), dtype=F64)
    # two exact computations of the same quantity: agree to rounding
    torch.testing.assert_close(an(v), db(v), rtol=1e-10, atol=1e-12)
    fr = hvp.forward_over_reverse(loss, cell.param_dict(), names)
    torch.testing.assert_close(fr(v), db(v), rtol=1e-10, atol=1e-12)


def test_analytic_hvp_matches_finite_difference():
    cell, s, y, t0 = _vanilla_problem()
    names = analytic_hvp.NAMES
    an = analytic_hvp.analytic(cell, s, y, t0, names)
    loss = analytic_hvp.task_loss(cell, s, y, t0)
    v = torch.randn(2, 1, an.size, generator=torch.Generator().manual_seed(5), dtype=F64)
    base = cell.param_dict()

    def grad(shift):
        moved = {
            n: (base[n].detach() + d).requires_grad_()
            for n, d in zip(names, an.space.unflatten(shift))
        }
        return an.space.flatten(torch.autograd.grad(loss(moved).sum(), list(moved.values())))

    eps = 1e-5
    fd = (grad(eps * v[:, 0]) - grad(-eps * v[:, 0])) / (2 * eps)
    torch.testing.assert_close(an(v)[:, 0], fd, rtol=1e-6, atol=1e-8)  # smooth: O(eps^2)


def test_hutchinson_trace_within_error_bar():
    params, loss = _reference_problem()
    op = hvp.double_backward(loss, params, model.PARAMS, copies=50)
    trace = (
        hvp.dense(hvp.double_backward(loss, params, model.PARAMS)).diagonal(dim1=1, dim2=2).sum(1)
    )
    est, err = eigen.hutchinson(op, 200, torch.Generator().manual_seed(6))
    assert (err > 0).all()
    # 4 standard errors: a false failure has probability ~1e-4 per network
    assert ((est - trace).abs() <= 4 * err).all(), (est, trace, err)


def test_slq_density_and_moments():
    params, loss = _reference_problem()
    names = ("W_rec", "W_out")
    op = hvp.double_backward(loss, params, names, copies=20)
    dense = hvp.dense(hvp.double_backward(loss, params, names))
    ev = torch.linalg.eigvalsh(dense)
    gen = torch.Generator().manual_seed(7)
    quad = eigen.slq(op, 40, op.size, gen)
    torch.testing.assert_close(quad.weights.sum(-1), torch.ones(2, 40, dtype=F64))
    # the smoothed density integrates to 1 (grid wide enough for the Gaussian tails)
    lo, hi = float(ev.min()) - 1, float(ev.max()) + 1
    grid = np.linspace(lo, hi, 20001)
    dens = quad.density(grid, 0.05)
    integral = torch.trapezoid(dens, torch.as_tensor(grid), dim=-1)
    torch.testing.assert_close(integral, torch.ones(2, dtype=F64), rtol=1e-6, atol=1e-6)
    # moments: with a full Krylov space each probe's quadrature is exact, so the estimate of
    # tr(H^p)/P is Hutchinson's with the normalised probe; compare within 4 standard errors
    for p in (1, 2, 3):
        per_probe = (quad.weights * quad.nodes**p).sum(-1)
        exact = (ev**p).mean(1)
        err = per_probe.std(1) / per_probe.shape[1] ** 0.5
        assert ((per_probe.mean(1) - exact).abs() <= 4 * err + 1e-12).all(), p


def test_slq_quadrature_is_exact_per_probe():
    """Gauss quadrature with m = P nodes integrates every power: sum_j w_j theta_j^p =
    z^T H^p z / z^T z for the probe z (an identity, checked to rounding)."""
    params, loss = _reference_problem()
    op = hvp.double_backward(loss, params, ("W_rec",))
    h = hvp.dense(op)
    z = eigen._draw(op, 3, torch.Generator().manual_seed(8), "rademacher")
    alpha, beta = eigen._lanczos(op, z, op.size, torch.Generator().manual_seed(9))
    theta, s = eigen._ritz(alpha, beta)
    w = s[..., 0, :] ** 2
    zn = z / z.norm(dim=-1, keepdim=True)
    for p in (1, 2, 4):
        hp = torch.linalg.matrix_power(h, p)
        exact = torch.einsum("mkp,mpq,mkq->mk", zn, hp, zn)
        torch.testing.assert_close((w * theta**p).sum(-1), exact, rtol=1e-8, atol=1e-10)


def test_lanczos_breakdown_keeps_exact_eigenvalues():
    """A Hessian with few distinct eigenvalues makes Lanczos break down early; the restart
    keeps the Ritz values exact eigenvalues."""
    m, p = 1, 12
    diag = torch.tensor([5.0, 5.0, 5.0, 2.0, 2.0, 1.0, 1.0, 1.0, 0.0, 0.0, -1.0, -1.0], dtype=F64)
    space = hvp.Space(("x",), (torch.Size([p]),))
    op = hvp.Operator(lambda v: v * diag, space, m, F64, "cpu")
    res = eigen.lanczos(op, 3, torch.Generator().manual_seed(0), max_iter=p, tol=1e-12)
    torch.testing.assert_close(res.values, torch.tensor([[5.0, 5.0, 5.0]], dtype=F64))
