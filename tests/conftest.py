"""Shared test fixtures, and one compute thread per test process.

The tests use tiny arrays, on which two intra-op threads only wait for each other (up to 50×
slower on a busy 2-core machine), and ``-n auto`` already gives each core its own process. So
every test process, and every command it starts, runs with one BLAS/OpenMP/torch thread unless
the environment says otherwise; a test that needs more threads sets them itself.
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


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
