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


@pytest.fixture(scope="module")
def client():
    """A local Dask cluster of two single-threaded worker processes (sweeps, bench)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as dask_client:
        yield dask_client
