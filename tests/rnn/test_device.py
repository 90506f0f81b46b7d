"""Device discipline without a GPU: on PyTorch's `meta` device every tensor op checks that
its operands share a device, so a tensor created on the CPU by mistake (a stray .cpu() or a
factory call without device=) raises here as it would on CUDA."""

import torch

from floss.core import seeding
from floss.rnn.cells import MODELS, init_networks
from floss.rnn.flossing import Flosser, FlossingConfig
from floss.rnn.lyapunov import initial_basis, input_drive, spectrum
from floss.rnn.tasks import Task
from floss.rnn.training import forward

META = torch.device("meta")


def _on_meta(model):
    cell = init_networks(model, [1, 2], 6, batch=3)
    return MODELS[model]({k: v.detach().to(META) for k, v in cell.param_dict().items()}, cell.meta)


def test_spectrum_and_flossing_window_on_meta_device():
    for model in MODELS:
        cell = _on_meta(model)
        drive = input_drive(cell, 12, "task")
        basis = initial_basis([1, 2], cell.state_size, 3, device=META)
        lam = spectrum(cell, drive, basis, 2)
        assert lam.device == META and lam.shape == (2, 3)
        assert cell.jacobian(cell.x0[:, :, 0], drive[0]).device == META


def test_flosser_drive_and_training_forward_on_meta_device():
    cell = _on_meta("vanilla")
    flosser = Flosser(cell, FlossingConfig(k=2, steps=20))
    assert flosser._drive().device == META and flosser.basis.device == META
    task = Task(order=1, delay=2, steps=10)
    inputs, targets = task.sample_networks(3, seeding.generators([1, 2], "input", 1))
    loss, acc = forward(cell, inputs.to(META), targets.to(META), task.t0)
    assert loss.device == META and acc.device == META and loss.shape == (2,)
