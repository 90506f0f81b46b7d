"""GAIT-prop family: invertible nets, the three rules, the regulariser (docs/science.md
§4.1-§4.2)."""

import numpy as np
import pytest
import torch

from floss.gait import learning_rules
from floss.gait.layers import ExactInverse, InvNet, init_net, orth_error, square_widths

F64 = torch.float64


def _batch(net: InvNet, n: int = 64, seed: int = 0, bias: float = 0.1):
    """A batch of inputs and labels, and small random biases so that they matter."""
    gen = torch.Generator().manual_seed(seed)
    for b in net.biases:
        b.copy_(bias * torch.randn(b.shape, generator=gen, dtype=F64))
    x = torch.rand(n, net.widths[0], generator=gen, dtype=F64)
    labels = torch.randint(0, 10, (n,), generator=gen)
    ys = net.forward(x)
    return x, ys, learning_rules.output_target(ys[-1], labels)


def _cos(a, b):
    return torch.stack([learning_rules.cosine(a[l], b[l]) for l in range(len(a))], -1)  # (S, L)


def test_leaky_relu_round_trip():
    net = init_net([1], square_widths(10, 1))
    a = torch.linspace(-5, 5, 1001, dtype=F64)
    torch.testing.assert_close(net.f_inv(net.f(a)), a, rtol=0, atol=1e-15)
    torch.testing.assert_close(net.f(net.f_inv(a)), a, rtol=0, atol=1e-15)
    # f' from the output: 1 above the kink, 0.1 below (the reference's slope)
    assert set(net.f_prime(net.f(a)).unique().tolist()) == {0.1, 1.0}


@pytest.mark.parametrize("method", ["solve", "inv"])
@pytest.mark.parametrize("widths", [(24,) * 5, (24, 24, 18, 12, 10)])
def test_inverse_pass_reconstructs_input(method, widths):
    # orthogonal weights (the default init) with biases, float64: relative error <= 1e-10
    # (backward-stable solves give ~1e-15 per layer; the inverse leaky ReLU scales by <= 10)
    net = init_net([3, 4], widths)
    _, ys, _ = _batch(net)
    inv = ExactInverse(method)
    for got, want in zip(net.inverse(ys[-1], ys, inv), ys):
        assert ((got - want).norm() / want.norm()).item() <= 1e-10
    assert max(inv.reconstruction_error(net, l).item() for l in range(4)) < 1e-13


def test_inverse_pass_gaussian_weights_within_conditioning():
    """Gaussian weights: the error is bounded by rounding times the conditioning of the pass,
    prod_l 10 kappa(W_l) (10: the inverse leaky ReLU's largest slope)."""
    net = init_net([3, 4], (24,) * 5, init="gaussian")
    _, ys, _ = _batch(net)
    kappa = torch.stack([torch.linalg.cond(w) for w in net.weights]).prod(0).max().item()
    bound = 24 * torch.finfo(F64).eps * kappa * 10**net.n_layers
    for method in ("solve", "inv"):
        x = net.inverse(ys[-1], ys, ExactInverse(method))[0]
        err = ((x - ys[0]).norm() / ys[0].norm()).item()
        assert err <= bound and err < 1e-6, (err, bound)


@pytest.mark.parametrize("widths", [(16,) * 4, (16, 16, 12, 10)])
def test_bp_equals_autograd_gradient(widths):
    """The explicit BP rule is minus autograd's gradient of the batch-mean of 0.5 ||y - t||^2."""
    net = init_net([1, 2], widths, init="gaussian")
    x, ys, target = _batch(net)
    dw, db = learning_rules.bp(net, ys, target)
    params = [p.clone().requires_grad_(True) for p in net.parameters()]
    L = net.n_layers
    probe = InvNet(params[:L], params[L:], net.widths)
    loss = 0.5 * (probe.forward(x)[-1] - target).square().sum((-2, -1)).sum() / len(x)
    grads = torch.autograd.grad(loss, params)
    for got, want in zip(dw + db, grads):
        torch.testing.assert_close(-got, want, rtol=1e-10, atol=1e-14)


class AsinhNet(InvNet):
    """A smooth invertible transfer function (asinh), for the O(gamma) statement of the theorem."""

    def f(self, a):
        return torch.asinh(a)

    def f_inv(self, y):
        return torch.sinh(y)

    def f_prime(self, y):
        return 1 / torch.cosh(y)  # 1 / sqrt(1 + a^2) at a = sinh(y)


def _rel_err(u, v) -> np.ndarray:
    return np.array([((a - b).norm() / b.norm()).item() for a, b in zip(u, v)])


def test_gait_approaches_bp_as_gamma_shrinks():
    """With orthogonal weights GAIT-prop's update -> BP's as gamma -> 0 (the paper's theorem)."""
    net = init_net(list(range(4)), square_widths(64, 3))
    _, ys, target = _batch(net, n=256)
    inv = ExactInverse()
    ub = learning_rules.bp(net, ys, target)[0]
    assert _cos(learning_rules.gait(net, ys, target, inv, gamma=1e-4)[0], ub).min().item() > 0.999
    # leaky ReLU is piecewise linear: only units whose step toward the target crosses the kink
    # deviate, and there are fewer of them at smaller gamma
    errs = [
        _rel_err(learning_rules.gait(net, ys, target, inv, gamma=g)[0], ub).sum()
        for g in (0.4, 0.1, 0.02)
    ]
    assert errs[0] > errs[1] > errs[2] > 0


def test_gait_error_is_first_order_in_gamma_for_smooth_f():
    """For a smooth f the deviation from BP is the second-order term of f^-1's expansion, so the
    relative update error is O(gamma): slope 1 on log-log axes (here gamma 1e-1 .. 1e-3)."""
    base = init_net([1, 2], square_widths(32, 2))
    net = AsinhNet(base.weights, base.biases, base.widths, seeds=base.seeds)
    _, ys, target = _batch(net, bias=0.3)
    inv = ExactInverse()
    ub = learning_rules.bp(net, ys, target)[0]
    gammas = np.array([1e-1, 3e-2, 1e-2, 3e-3, 1e-3])
    err = np.array(
        [_rel_err(learning_rules.gait(net, ys, target, inv, gamma=g)[0], ub) for g in gammas]
    )
    assert np.all(err[:, -1] < 1e-12)  # the output layer's update is BP's
    for layer in range(net.n_layers - 1):
        slope = np.polyfit(np.log(gammas), np.log(err[:, layer]), 1)[0]
        assert 0.9 < slope < 1.1, (layer, err[:, layer], slope)


def test_linear_orthogonal_tp_and_gait_equal_bp():
    """Linear net, orthogonal W: W^-1 = W^T, so TP's and GAIT-prop's errors are BP's exactly."""
    net = init_net([5, 6], square_widths(20, 3), linear=True)
    _, ys, target = _batch(net)
    inv = ExactInverse()
    ub, bb = learning_rules.bp(net, ys, target)
    for uw, vb in (
        learning_rules.tp(net, ys, target, inv),
        learning_rules.gait(net, ys, target, inv, gamma=1e-2),
    ):
        # orthogonality holds to ~1e-15 after QR; GAIT-prop's lowest target sits gamma^3 = 1e-6
        # from the activity, so float64 leaves it ~1e-10 relative accuracy
        assert _rel_err(uw, ub).max() < 1e-8 and _rel_err(vb, bb).max() < 1e-8


def test_nonorthogonal_weights_break_alignment():
    """Scaling the singular values of W (log-uniform in [0.2, 5]) makes W^-1 far from W^T, and
    GAIT-prop's and TP's updates in the lower layers turn away from BP's."""
    net = init_net([1, 2, 3], square_widths(32, 3), linear=True)
    gen = torch.Generator().manual_seed(1)
    for w in net.weights:
        s = torch.exp(
            torch.empty(w.shape[:2], dtype=F64).uniform_(np.log(0.2), np.log(5), generator=gen)
        )
        w.mul_(s[:, None, :])  # W Q diag(s): orthogonal columns scaled
    _, ys, target = _batch(net)
    inv = ExactInverse()
    ub = learning_rules.bp(net, ys, target)[0]
    for rule in ("gait", "tp"):
        cos = _cos(learning_rules.updates(rule, net, ys, target, inv, gamma=1e-3)[0], ub)
        assert cos[:, -1].min().item() > 1 - 1e-10  # the output layer's update is BP's
        assert cos[:, 0].max().item() < 0.9, cos


@pytest.mark.parametrize("linear", [False, True])
def test_increment_form_matches_target_form(linear):
    net = init_net([1, 2], square_widths(24, 2), linear=linear)
    _, ys, target = _batch(net)
    inv = ExactInverse()
    a = learning_rules.gait(net, ys, target, inv, gamma=1e-2, form="target")
    b = learning_rules.gait(net, ys, target, inv, gamma=1e-2, form="increment")
    for u, v in zip(a[0] + a[1], b[0] + b[1]):
        torch.testing.assert_close(u, v, rtol=1e-7, atol=1e-12)
    # at gamma = 1e-6 the target form's lowest-layer target (~gamma^3 from the activity) is
    # lost to float64 rounding; the increment form keeps it
    ub = learning_rules.bp(net, ys, target)[0]
    assert (
        _cos(learning_rules.gait(net, ys, target, inv, gamma=1e-6, form="increment")[0], ub).min()
        > 0.9999
    )


def test_regulariser_gradient_matches_autograd():
    net = init_net([1, 2], (12, 12, 12), init="gaussian")
    w = net.weights[0].clone().requires_grad_(True)
    (g,) = torch.autograd.grad(learning_rules.orth_penalty(w).sum(), w)
    torch.testing.assert_close(learning_rules.orth_grad(net.weights[0]), g, rtol=1e-12, atol=1e-12)
    # the penalty ignores the diagonal: a scaled orthogonal matrix has zero penalty
    q = 3.0 * init_net([7], (12, 12)).weights[0]
    assert learning_rules.orth_penalty(q).item() < 1e-24 and orth_error(q).item() > 10


def test_orthogonal_init_is_orthogonal_and_seeded():
    a = init_net([4, 5], square_widths(16, 2))
    b = init_net([5], square_widths(16, 2))
    for wa, wb in zip(a.weights, b.weights):
        assert orth_error(wa).max().item() < 1e-13
        torch.testing.assert_close(wa[1], wb[0], rtol=0, atol=0)  # per-seed streams
    g = init_net([4], square_widths(400, 0), init="gaussian").weights[0]
    assert abs(g.std().item() - (2 / 800) ** 0.5) < 2e-3  # std sqrt(2 / (n + n))
