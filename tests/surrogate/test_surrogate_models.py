"""Binary and LIF cells (docs/science.md §2.1-2.2): forward maps, surrogate Jacobians, surrogate
spectra."""

import math

import numpy as np
import pytest
import torch

from floss.rnn.cells import init_networks
from floss.rnn.cells.binary import heaviside, init_binary
from floss.rnn.cells.spiking import SpikingRNN, init_spiking
from floss.rnn.lyapunov import initial_basis, long_term_jacobian_svals, spectrum
from floss.surrogate.networks import cell_to_dataset, load_cell
from floss.surrogate.spectrum import spectrum_drive, surrogate_spectrum

F64 = torch.float64


def _state_and_drive(cell, seed=0, scale=1.0):
    gen = torch.Generator().manual_seed(seed)
    x = scale * torch.randn(cell.n_networks, cell.state_size, generator=gen, dtype=F64)
    bits = torch.randint(0, 2, (1, cell.n_networks, 1, cell.n_inputs), generator=gen).double()
    return x, cell.drive(bits)[0, :, 0]


def _autograd_jacobian(cell, x, d):
    """Jacobian of the forward map by autograd (its backward is the surrogate's)."""
    out = []
    for m in range(cell.n_networks):

        def f(s, m=m):
            return cell.step(s.view(1, 1, -1).expand(cell.n_networks, 1, -1), d[:, None])[m, 0]

        out.append(torch.autograd.functional.jacobian(f, x[m]))
    return torch.stack(out)


@pytest.mark.parametrize("sharpness", [0.5, 1.0, 4.0])
def test_binary_jacobian_is_surrogate_and_matches_autograd(sharpness):
    cell = init_binary([1, 2, 3], 7, n_inputs=2, sharpness=sharpness, dtype=F64)
    x, d = _state_and_drive(cell)
    ours = cell.jacobian(x, d)
    explicit = cell.J.detach() / (sharpness * x.abs() + 1)[:, None, :] ** 2  # J diag(s'_g(x))
    assert torch.allclose(ours, explicit, atol=1e-14, rtol=0)
    assert torch.allclose(ours, _autograd_jacobian(cell, x, d), atol=1e-14, rtol=0)


def test_binary_forward_pass_is_exactly_binary():
    cell = init_binary([1, 2], 12, dtype=F64)
    bits = torch.randint(0, 2, (50, 2, 16, 1), generator=torch.Generator().manual_seed(1))
    states = cell.run(cell.drive(bits))
    h = heaviside(states, cell.sharpness)
    assert set(torch.unique(h).tolist()) <= {0.0, 1.0}
    # the next state is J Theta(x) + drive with Theta(x) = 1[x > 0], in exact arithmetic terms
    theta = (states[:-1] > 0).double()
    drive = cell.drive(bits)[1:]
    expect = torch.einsum("tmbj,mij->tmbi", theta, cell.J.detach()) + drive
    assert torch.allclose(states[1:], expect, atol=1e-13, rtol=0)
    # a perturbation too small to flip any unit leaves the next state unchanged (flat map)
    x = states[10]
    assert torch.equal(cell.step(x, drive[10]), cell.step(x * (1 + 1e-9), drive[10]))


def _lif_blocks(cell, x):
    """docs/science.md §2.2's 2N x 2N surrogate Jacobian, written out block by block."""
    n, a, b = cell.n_neurons, cell.alpha, cell.beta
    g, thr = cell.meta["jacobian_sharpness"], cell.meta["threshold"]
    s = 1 / (g * (x[:, :n] - thr).abs() + 1) ** 2
    vs = cell.V.detach() * s[:, None, :]
    eye = torch.eye(n, dtype=F64).expand(cell.n_networks, n, n)
    top = torch.cat([b * eye + (1 - b) * vs, (1 - b) * a * eye], 2)
    bottom = torch.cat([vs, a * eye], 2)
    return torch.cat([top, bottom], 1)


def test_lif_jacobian_is_the_spec_block_matrix_and_autograd_of_the_map():
    """With one sharpness for both uses the Jacobian is autograd of the map; the reference's
    two sharpnesses (5 and 10) are tested below."""
    sharp = {"jacobian_sharpness": 3.0, "backward_sharpness": 3.0}
    cell = init_spiking([1, 2, 3], 6, n_inputs=5, dtype=F64, **sharp)
    x, d = _state_and_drive(cell, 2, scale=1.2)
    assert (x[:, :6] > 1).any()  # some neurons spike, so the reset matters below
    assert torch.allclose(cell.jacobian(x, d), _lif_blocks(cell, x), atol=1e-14, rtol=0)
    # with the reset factor (1 - out_t) in the mem rows it is autograd of the detached-reset map
    params = {k: v.detach() for k, v in cell.param_dict().items()}
    reset = SpikingRNN(params, {**cell.meta, "reset_in_jacobian": True})
    assert torch.allclose(reset.jacobian(x, d), _autograd_jacobian(cell, x, d), atol=1e-14)
    # below threshold (no reset) all three agree
    x_low = x.clone()
    x_low[:, :6] = x_low[:, :6].clamp(max=0.9)
    assert torch.allclose(cell.jacobian(x_low, d), _autograd_jacobian(cell, x_low, d), atol=1e-14)


def test_lif_uses_the_reference_sharpnesses_where_the_reference_does():
    """Reference script: sigma' = 1/(5|mem - 1| + 1)^2 in the hand-written Jacobian and
    1/(10|mem - 1| + 1)^2 in the spike's autograd backward pass. Defaults are those values;
    both are checked against a hand computation in numpy."""
    cell = init_spiking([1, 2], 5, n_inputs=4, dtype=F64)
    assert (cell.meta["jacobian_sharpness"], cell.meta["backward_sharpness"]) == (5.0, 10.0)
    x, d = _state_and_drive(cell, 4, scale=1.3)
    n, a, b = 5, math.exp(-1 / 5), math.exp(-1 / 10)
    mem = x[:, :n].numpy()
    v = cell.V.detach().numpy()
    for g, use in ((5.0, "jacobian"), (10.0, "backward")):
        s = 1.0 / (g * np.abs(mem - 1.0) + 1.0) ** 2  # (M, N), by hand
        vs = v * s[:, None, :]  # V diag(sigma'_g)
        if use == "jacobian":  # d syn'/d mem and d mem'/d mem blocks of D_t
            jac = cell.jacobian(x, d).detach().numpy()
            assert np.allclose(jac[:, n:, :n], vs, atol=1e-14, rtol=0)
            expect = b * np.eye(n) + (1 - b) * vs
            assert np.allclose(jac[:, :n, :n], expect, atol=1e-14, rtol=0)
        else:  # autograd through the forward map: d syn'/d mem = V diag(sigma'_10)
            auto = _autograd_jacobian(cell, x, d).detach().numpy()
            assert np.allclose(auto[:, n:, :n], vs, atol=1e-14, rtol=0)
            assert np.allclose(auto[:, n:, n:], a * np.eye(n), atol=1e-14, rtol=0)
    # and the two differ here, so each test above can only pass with its own sharpness
    jac, auto = cell.jacobian(x, d).detach(), _autograd_jacobian(cell, x, d)
    assert not torch.allclose(jac[:, n:, :n], auto[:, n:, :n])


def test_lif_flossing_gradient_uses_both_sharpnesses():
    """The flossing gradient runs through sigma'_5(mem) of the Jacobian (its slope in mem) and
    through the trajectory, whose spikes back-propagate sigma'_10. Changing either sharpness
    changes the gradient; changing the backward one leaves the exponents unchanged."""
    base = init_spiking([3], 8, n_inputs=6, dtype=F64)
    params = {k: v.detach() for k, v in base.param_dict().items()}
    with torch.no_grad():
        params["x0"][:, :8] = 1.2  # spiking from the first step
    drive = spectrum_drive(base, 40, [3])
    basis = initial_basis([3], 16, 4, F64)

    def run(jac, back):
        meta = {**base.meta, "jacobian_sharpness": jac, "backward_sharpness": back}
        cell = SpikingRNN(params, meta)
        lam = spectrum(cell, drive, basis)
        (grad,) = torch.autograd.grad((lam**2).mean(), [cell.V])
        return lam.detach(), grad

    lam, grad = run(5.0, 10.0)
    lam_b, grad_b = run(5.0, 1.0)
    lam_j, grad_j = run(1.0, 10.0)
    assert torch.equal(lam, lam_b)  # the forward pass and D_t do not use the backward sharpness
    assert not torch.allclose(grad, grad_b)
    assert not torch.allclose(lam, lam_j) and not torch.allclose(grad, grad_j)


def test_lif_forward_map_formula():
    cell = init_spiking([4], 5, n_inputs=3, dtype=F64)
    x, d = _state_and_drive(cell, 3, scale=1.5)
    n, a, b = 5, math.exp(-1 / 5), math.exp(-1 / 10)
    mem, syn = x[:, :n], x[:, n:]
    out = (mem > 1).double()
    syn_new = a * syn + d + out @ cell.V.detach()[0].T
    mem_new = (b * mem + (1 - b) * syn_new) * (1 - out)
    assert torch.allclose(cell.step(x[:, None], d[:, None])[:, 0], torch.cat([mem_new, syn_new], 1))


def test_lif_vanishing_surrogate_gives_log_beta_and_log_alpha():
    """docs/science.md §2.2 identity: with sigma' -> 0 the Jacobian is the constant block-triangular
    [[beta I, (1-beta) alpha I], [0, alpha I]]: N exponents log beta = -0.1 and N log alpha
    = -0.2. The off-diagonal block makes the finite-t error O(log(1 + c)/t) with c ~ 1 for the
    mixing of the two eigenspaces, so 900 accumulated steps give ~1e-3 at most."""
    n = 6
    cell = init_spiking([1, 2], n, n_inputs=10, jacobian_sharpness=1e12, dtype=F64)
    lam = surrogate_spectrum(cell, 2 * n, 1000, 100)
    expect = torch.tensor([-0.1] * n + [-0.2] * n, dtype=F64)
    assert torch.allclose(lam, expect.expand_as(lam), atol=2e-3)


def test_surrogate_qr_exponents_equal_explicit_product():
    """At finite t the QR exponents are log|R_ii| of qr(T_t Q_0)/t exactly (docs/science.md §1.6),
    with T_t the product of surrogate Jacobians; float64 rounding ~1e-12 of an O(1) product."""
    for cell in (
        init_binary([1, 2], 8, sharpness=0.7, dtype=F64),
        init_spiking([1, 2], 4, n_inputs=7, dtype=F64),
    ):
        steps, k = 15, 5
        drive = spectrum_drive(cell, steps, [1, 2])
        basis = initial_basis([1, 2], cell.state_size, k, F64)
        x = cell.x0[:, :, 0].detach()
        prod = torch.eye(cell.state_size, dtype=F64).expand(2, -1, -1)
        with torch.no_grad():
            lam = spectrum(cell, drive, basis)
            for t in range(steps):
                prod = cell.jacobian(x, drive[t]) @ prod
                x = cell.step(x[:, None], drive[t][:, None])[:, 0]
        r = torch.linalg.qr(prod @ basis)[1]
        expect = torch.log(torch.diagonal(r, dim1=-2, dim2=-1).abs()) / steps
        assert torch.allclose(lam, expect, atol=1e-10, rtol=0)


def test_surrogate_exponents_converge_with_steps():
    """Eight input/basis realisations of one binary network: the spread of the lambda_1
    estimates shrinks ~1/sqrt(T) (expected ratio sqrt(8) = 2.8 from T = 250 to 2000; 1.5
    leaves room for the ~25% error of an 8-sample spread), the means agree, and lambda_1
    agrees with (1/t) log sigma_1(T_t) (to a few 1e-2 at t = 400, as the core test), all
    for the surrogate Jacobians."""
    one = init_binary([3], 40, sharpness=1.0, dtype=F64)
    params = {k: v.detach().expand(8, *v.shape[1:]).clone() for k, v in one.param_dict().items()}
    cell = type(one)(params, {**one.meta, "seed": np.arange(100, 108)})
    short = surrogate_spectrum(cell, 1, 300, 50)[:, 0]
    long = surrogate_spectrum(cell, 1, 2050, 50)[:, 0]
    assert short.std() > 1.5 * long.std()
    # the short window also carries an O(1/T) bias (basis alignment): ~2/250 here
    assert abs(short.mean() - long.mean()) < 0.02
    drive = spectrum_drive(cell, 400, list(range(100, 108)))
    logsv = long_term_jacobian_svals(cell, drive, [400])[:, 0, 0]
    lam = spectrum(cell, drive, initial_basis(range(100, 108), 40, 1, F64))[:, 0]
    assert torch.allclose(lam, logsv / 400, atol=0.03)


def test_files_keep_the_model_descriptors(tmp_path):
    from floss.core import io

    for cell in (
        init_networks("binary", [1, 2], 5, sharpness=0.5),
        init_networks(
            "spiking",
            [1],
            4,
            n_inputs=3,
            jacobian_sharpness=2.0,
            backward_sharpness=7.0,
            tau_mem=20.0,
            reset_in_jacobian=True,
        ),
    ):
        io.write(cell_to_dataset(cell), tmp_path / "net.nc")
        back = load_cell(io.read(tmp_path / "net.nc"), "net.nc")
        assert type(back) is type(cell)
        for k in cell.meta_attrs:
            if k in cell.meta:
                assert back.meta[k] == cell.meta[k], k
        for name, p in cell.param_dict().items():
            assert torch.equal(getattr(back, name).detach(), p.detach())


def test_bad_descriptors_are_rejected():
    with pytest.raises(ValueError, match="sharpness"):
        init_binary([1], 4, sharpness=0.0)
    with pytest.raises(ValueError, match="rate"):
        init_spiking([1], 4, rate=1.5)
    with pytest.raises(ValueError, match="unknown spiking options"):
        init_spiking([1], 4, tau=3.0)
