"""Shared test fixtures."""

import pytest
import torch


@pytest.fixture
def single_thread():
    """Tiny tensors: intra-op threading only costs time on a 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
