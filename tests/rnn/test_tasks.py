"""Task semantics, docs/science.md §1.2: hand-checked examples and the reference's recursive
formula."""

import math

import pytest
import torch

from floss.rnn.tasks import Task, accuracy, bce_loss


def bits(seq):
    return torch.tensor(seq).view(-1, 1, 1)


def flat(t):
    return t.flatten().tolist()


def test_copy_by_hand():
    task = Task(order=0, delay=2, steps=4)
    inputs, targets = task.from_bits(bits([1, 0, 1, 1, 0, 1]))
    assert flat(inputs) == [1, 1, 0, 1]  # first d' = 2 bits dropped
    assert flat(targets) == [1, 0, 1, 1]  # y_t = s_{t-d'} of the full draw
    assert task.t0 == 2  # first loss step sees a dropped bit: chance level
    assert task.loss_steps == 3


def test_xor_by_hand():
    task = Task(order=1, delay=1, steps=5)
    inputs, targets = task.from_bits(bits([1, 1, 0, 1, 0, 0]))
    assert flat(inputs) == [1, 0, 1, 0, 0]
    assert flat(targets) == [0, 0, 1, 1, 1]
    assert task.t0 == 2


def test_hierarchical_xor_by_hand():
    task = Task(order=2, delay=1, steps=6)
    inputs, targets = task.from_bits(bits([1, 0, 1, 1, 0, 1, 0]))
    assert flat(inputs) == [0, 1, 1, 0, 1, 0]
    assert flat(targets) == [0, 0, 0, 1, 0, 1]
    assert task.t0 == 4


def _reference_targets(full, delay, order):
    """The reference generator's loop (1-based i, recursive |a - b| over reversed lags)."""

    def recabs(x):
        return x[0] if len(x) == 1 else abs(recabs(x[:-1]) - x[-1])

    total = len(full)
    out = [0] * total
    for i in range(1, total + 1):
        if i > delay * 2**order:
            lags = [full[i - j * delay - 1] for j in range(1, 2**order + 1)]
            out[i - 1] = recabs(list(reversed(lags)))
    return out[delay:]


@pytest.mark.parametrize("order,delay", [(0, 1), (0, 5), (1, 3), (2, 2), (3, 1)])
def test_matches_reference_formula(order, delay):
    task = Task(order=order, delay=delay, steps=40, channels=2)
    gen = torch.Generator().manual_seed(7)
    full = torch.randint(0, 2, (40 + delay, 3, 2), generator=gen)
    inputs, targets = task.from_bits(full)
    for b in range(3):
        for s in range(2):
            expect = _reference_targets(full[:, b, s].tolist(), delay, order)
            assert flat(targets[:, b, s]) == expect
    assert torch.equal(inputs, full[delay:].float())


def test_sample_is_fresh_and_seeded():
    task = Task(order=1, delay=3, steps=20)
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    a, b = task.sample(4, g1), task.sample(4, g2)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(task.sample(4, g1)[0], a[0])  # next call: a fresh batch
    assert 0.3 < a[0].mean() < 0.7  # Bernoulli(1/2)


def test_t0_and_codes():
    assert Task.from_code(0, 10, 300).t0 == 10
    assert Task.from_code(-1, 10, 300).t0 == 20
    assert Task.from_code(-2, 10, 300).t0 == 40
    assert Task.from_name("xor", 10, 300).code == -1
    with pytest.raises(ValueError, match="must exceed the first loss step"):
        Task(order=2, delay=10, steps=40)
    with pytest.raises(ValueError, match="unknown task"):
        Task.from_name("parity", 1, 10)


def test_loss_normalisation():
    t, m, b, r, t0 = 6, 2, 3, 2, 4
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(t, m, b, r, generator=gen, dtype=torch.float64)
    targets = torch.randint(0, 2, (t, m, b, r), generator=gen).double()
    # independent: -[y log s(z) + (1 - y) log(1 - s(z))], summed, divided by B (T - t0 + 1) R
    for net in range(m):
        total = 0.0
        for ti in range(t0 - 1, t):
            for bi in range(b):
                for ri in range(r):
                    z, y = logits[ti, net, bi, ri].item(), targets[ti, net, bi, ri].item()
                    s = 1 / (1 + math.exp(-z))
                    total -= y * math.log(s) + (1 - y) * math.log(1 - s)
        expect = total / (b * (t - t0 + 1) * r)
        assert bce_loss(logits, targets, t0)[net].item() == pytest.approx(expect, rel=1e-12)
    zero = bce_loss(torch.zeros(t, m, b, r), targets, t0)
    assert torch.allclose(zero, torch.full((m,), math.log(2)))


def test_accuracy_window():
    targets = torch.tensor([1.0, 1.0, 0.0, 1.0]).view(4, 1, 1, 1)
    logits = torch.tensor([-5.0, 2.0, 0.5, 0.0]).view(4, 1, 1, 1)
    # t0 = 2: steps 2..4 -> hit (2 > 0, y=1), miss (0.5 >= 0 but y=0), hit (0 >= 0, y=1)
    assert accuracy(logits, targets, 2).item() == pytest.approx(2 / 3)
