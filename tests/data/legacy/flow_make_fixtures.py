"""Write the symmetrykit 0.1 GeneratorFlow fixtures (``flow.json`` + ``flow.npz`` directories).

Run with the code of symmetrykit 0.1 (before the shared estimator contract) on the path, from
this directory::

    PYTHONPATH=/path/to/symmetrykit-0.1/src python flow_make_fixtures.py .

Each directory also gets ``expected.npz`` (points and what the fitted flow gave for them), which
``tests/test_flows_io.py`` compares against after loading with the current code.
"""
import sys
from pathlib import Path

import numpy as np
import torch

from symmetrykit.datasets import pde
from symmetrykit.flows import GeneratorFlow, save_flow

torch.set_num_threads(1)

root = Path(sys.argv[1])
data = pde("kdv", n_trajectories=2, nx=128, nt=12, random_state=0)
flow = GeneratorFlow(n_generators=2, hidden=(4,), n_iterations=2, batch_size=1,
                     patch_shape=(10, 16), random_state=0).fit(data)
save_flow(flow, root / "flow_kdv")
points = np.random.default_rng(1).uniform(0, 1, size=(20, 3))
np.savez(root / "flow_kdv" / "expected.npz", points=points, values=flow.evaluate(points))

def polygon_defect(points):
    radial = ((points * points).sum(-1) - 1.0).pow(2).mean(-1)
    sides = torch.linalg.vector_norm(points - torch.roll(points, 1, dims=1), dim=-1)
    return torch.log(radial + sides.var(dim=-1) + 1e-6)

rng = np.random.default_rng(0)
angles = rng.uniform(0, 2 * np.pi, (4, 1)) + np.arange(8) * 2 * np.pi / 8
poly = np.stack([np.cos(angles), np.sin(angles)], axis=-1)
flow = GeneratorFlow(n_generators=2, hidden=(4,), n_iterations=2, batch_size=2,
                     orthogonalization="penalty", validity=polygon_defect,
                     random_state=0).fit(poly)
save_flow(flow, root / "flow_custom_validity")
points = rng.uniform(-1, 1, size=(20, 2))
np.savez(root / "flow_custom_validity" / "expected.npz", points=points,
         values=flow.evaluate(points))
