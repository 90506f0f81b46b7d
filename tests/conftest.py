import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    # tests compare numbers, not speed; one thread keeps reductions in a fixed order
    torch.set_num_threads(1)
    yield
