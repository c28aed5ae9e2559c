"""Every loader refuses truncated, oversized, tampered and pickled files with one line.

Issue 19, items 4, 6, 10 (CSV headers) and 12: saved runs (format 2 and the legacy readers),
checkpoints and data files are untrusted input. Sizes are bounded before allocation, damaged
files are a ValueError naming the file, arrays are checked against the saved configuration,
and no pickle payload is ever executed.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import symmetrykit as sk
from symmetrykit import liederiv
from symmetrykit._checkpoint import (
    Checkpoint,
    MissingEntryError,
    restore_module,
    restore_optimizer,
    restore_rng,
)
from symmetrykit._estimator import SymmetryEstimator, register_estimator
from symmetrykit.baselines import LieGAN, SymmetryGAN
from symmetrykit.cli import main
from symmetrykit.runs import RunDirectory

LEGACY = Path(__file__).parent / "data" / "legacy"
# 700,000 x 700,000 float64: about 3.6 TiB.
HUGE_SHAPE = (700_000, 700_000)


class _Probe(SymmetryEstimator):
    """A tiny estimator holding each kind of saved state: float and boolean fitted arrays, a
    JSON value, a history and a torch module."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X):
        X = np.asarray(X, dtype=np.float64)
        self.net_ = torch.nn.Linear(3, 2, dtype=torch.float64)
        with torch.no_grad():
            self.net_.weight.copy_(torch.arange(6.0, dtype=torch.float64).reshape(2, 3))
            self.net_.bias.zero_()
        self.mean_ = X.mean(axis=0)
        self.is_positive_ = self.mean_ > 0
        self.n_features_in_ = X.shape[1]
        self.history_ = {"loss": [2.0, 1.0]}
        return self

    def _build_module(self, name, config):
        return torch.nn.Linear(3, 2, dtype=torch.float64)


register_estimator(_Probe, "_Probe")  # leading underscore: not registered by itself


def _one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def _edit_config(path: Path, edit) -> None:
    file = path / "config.json"
    content = json.loads(file.read_text())
    edit(content["config"])
    file.write_text(json.dumps(content))


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _claiming_header(shape, payload: bytes = b"\0" * 64) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return buffer.getvalue() + payload


def _write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(f"{name}.npy", data)
    return path


def _replace_member(file: Path, name: str, data: bytes) -> None:
    with zipfile.ZipFile(file) as archive:
        members = {info.filename[:-4]: archive.read(info) for info in archive.infolist()}
    members[name] = data
    _write_zip(file, members)


def _damage(file: Path, how: str) -> None:
    content = file.read_bytes()
    if how == "empty":
        file.write_bytes(b"")
    elif how == "truncated":
        file.write_bytes(content[: len(content) // 2])
    elif how == "not a zip":
        file.write_bytes(b"these are not the arrays you are looking for\n")
    else:  # "bit flip" in the first member's data: the zip's CRC no longer matches
        stream = io.BytesIO(content)
        stream.seek(content.index(np.lib.format.MAGIC_PREFIX))
        np.lib.format.read_magic(stream)
        np.lib.format.read_array_header_1_0(stream)
        position = stream.tell()  # the first byte of the array's data
        file.write_bytes(content[:position] + bytes([content[position] ^ 0xFF])
                         + content[position + 1:])


@pytest.fixture
def probe_run(tmp_path: Path) -> Path:
    X = np.random.default_rng(0).normal(size=(6, 3)) + 1.0
    return Path(_Probe(random_state=0).fit(X).save(tmp_path / "probe"))


@pytest.fixture(scope="module")
def gans(tmp_path_factory) -> dict[type, Path]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        X = sk.datasets.local_signals(n_samples=200, dim=5, random_state=0).X
        root = tmp_path_factory.mktemp("gans")
        return {cls: Path(cls(n_steps=2, batch_size=32, log_every=1, progress="none",
                              random_state=0).fit(X).save(root / cls.__name__))
                for cls in (LieGAN, SymmetryGAN)}
    finally:
        torch.set_num_threads(threads)


def _checkpoint(path: Path, **meta) -> Checkpoint:
    store = Checkpoint(path, {"random_state": 0, "n_steps": 30}, "fingerprint",
                       kind="probe-checkpoint", label="Probe")
    store.save({"rng": torch.Generator().get_state().numpy(), "weights": np.ones(3)},
               {"next_step": 10, **meta})
    return store


# ------------------------------------------------------------------ item 6: sizes bounded
def test_npy_header_claiming_terabytes_is_refused_before_allocating(tmp_path: Path) -> None:
    path = tmp_path / "huge.npy"
    path.write_bytes(_claiming_header(HUGE_SHAPE))
    load = sk.datasets.load  # any lazy import happens before the measurement
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as error:
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = _one_line(error)
    assert "huge.npy" in message and "(700000, 700000)" in message and "TiB" in message
    assert peak < 2**20  # nothing near the claimed size was allocated


def test_claims_beyond_the_file_or_memory_are_refused_without_allocating(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "claims.npy"
    path.write_bytes(_claiming_header((4000, 4000)))  # 122 MiB claimed, 64 bytes held
    load = sk.datasets.load
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"claims\.npy.*\(4000, 4000\).*truncated"):
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20
    honest = tmp_path / "honest.npy"
    np.save(honest, np.ones((40, 40)))  # 12.5 KiB, all present
    monkeypatch.setattr("symmetrykit._array_files.available_memory", lambda: 4096.0)
    with pytest.raises(ValueError, match=r"honest\.npy.*more than the 4 KiB of memory") as error:
        sk.datasets.load(honest)
    _one_line(error)


def test_discover_on_a_terabyte_header_is_one_line_with_exit_2(tmp_path: Path, capsys) -> None:
    path = tmp_path / "huge.npy"
    path.write_bytes(_claiming_header(HUGE_SHAPE))
    assert main(["discover", "--data", str(path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "huge.npy" in err[0] and "(700000, 700000)" in err[0]
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("loader", ["dataset", "run", "checkpoint"])
def test_archive_members_claiming_more_than_they_hold_are_refused(
        tmp_path: Path, probe_run: Path, loader: str) -> None:
    lie = _claiming_header(HUGE_SHAPE)
    if loader == "dataset":
        file = _write_zip(tmp_path / "data.npz", {"X": lie})
        load = lambda: sk.datasets.load(file)  # noqa: E731
    elif loader == "run":
        file = probe_run / "arrays.npz"
        _replace_member(file, "fitted.mean_", lie)
        load = lambda: sk.load(probe_run)  # noqa: E731
    else:
        store = _checkpoint(tmp_path / "ckpt")
        file = tmp_path / "ckpt" / "checkpoint.npz"
        _replace_member(file, "weights", lie)
        load = store.load
    with pytest.raises(ValueError) as error:
        load()
    message = _one_line(error)
    assert str(file) in message and "(700000, 700000)" in message


ARRAYS = {
    "C order": np.arange(12.0).reshape(3, 4),
    "Fortran order": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    "big-endian int": np.arange(6, dtype=">i4").reshape(2, 3),
    "float32 3-D": np.linspace(0, 1, 24, dtype=np.float32).reshape(2, 3, 4),
    "bool": np.array([True, False, True]),
    "scalar": np.array(2.5),
    "empty": np.zeros((0, 3)),
    "text": np.array("metadata"),
}


@pytest.mark.parametrize("array", ARRAYS.values(), ids=ARRAYS)
@pytest.mark.parametrize("compressed", [False, True])
def test_the_checked_reader_returns_what_numpy_saved(tmp_path: Path, array, compressed) -> None:
    from symmetrykit._array_files import read_npy, read_npz

    np.save(tmp_path / "a.npy", array)
    (np.savez_compressed if compressed else np.savez)(tmp_path / "a.npz", a=array, b=array)
    for loaded in (read_npy(tmp_path / "a.npy"), *read_npz(tmp_path / "a.npz").values()):
        assert loaded.dtype == array.dtype and loaded.shape == array.shape
        np.testing.assert_array_equal(loaded, array)


# ------------------------------------------------------------ item 12: damaged files, one line
DAMAGE = ["empty", "truncated", "not a zip", "bit flip"]


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_arrays_npz_is_one_line_naming_the_file(probe_run: Path, how: str) -> None:
    _damage(probe_run / "arrays.npz", how)
    with pytest.raises(ValueError) as error:
        sk.load(probe_run)
    assert "arrays.npz" in _one_line(error)


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_checkpoint_is_one_line_naming_the_file(tmp_path: Path, how: str) -> None:
    store = _checkpoint(tmp_path / "ckpt")
    _damage(tmp_path / "ckpt" / "checkpoint.npz", how)
    with pytest.raises(ValueError) as error:
        store.load()
    assert "checkpoint.npz" in _one_line(error)


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
@pytest.mark.parametrize("how", ["empty", "truncated"])
def test_damaged_data_files_are_one_line(tmp_path: Path, suffix: str, how: str) -> None:
    path = sk.datasets.SymmetryDataset(np.arange(40.0).reshape(20, 2)).save(
        tmp_path / f"data{suffix}")
    _damage(path, how)
    with pytest.raises(ValueError) as error:
        sk.datasets.load(path)
    assert f"data{suffix}" in _one_line(error)


def test_discover_resuming_a_truncated_checkpoint_is_one_line_with_exit_2(
        tmp_path: Path, capsys, single_thread) -> None:
    data = tmp_path / "signals.npy"
    np.save(data, sk.datasets.local_signals(n_samples=60, dim=5, random_state=0).X)
    checkpoint = tmp_path / "ckpt"
    command = ["discover", "--data", str(data), "--init", "random", "--steps", "2",
               "--warmup-steps", "0", "--restarts", "1", "--batch-size", "20",
               "--progress", "none", "--checkpoint", str(checkpoint)]
    # The same fit as the command's, written through the API: the checkpoint it resumes.
    from symmetrykit._methods import get_method

    lens = get_method("lens").make(None, random_state=0, device="cpu", progress="none",
                                   n_steps=2, warmup_steps=0, n_restarts=1, init="random",
                                   batch_size=20, checkpoint=str(checkpoint))
    lens.fit(sk.datasets.load(data).X)
    _damage(checkpoint / "checkpoint.npz", "truncated")
    assert main([*command, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "checkpoint.npz" in err[0]


# --------------------------------------------------- item 12: arrays checked against the config
def test_saved_runs_record_what_the_loader_checks(probe_run: Path) -> None:
    config = RunDirectory.open(probe_run).config()
    assert config["array_specs"]["fitted.mean_"] == ["<f8", [3]]
    assert config["array_specs"]["fitted.is_positive_"] == ["|b1", [3]]
    assert config["array_specs"]["module.net_.weight"] == ["<f8", [2, 3]]
    assert config["nonfinite_arrays"] == []
    assert config["fitted_attributes"] == ["history_", "is_positive_", "mean_",
                                           "n_features_in_", "net_"]
    loaded = sk.load(probe_run)
    np.testing.assert_array_equal(loaded.net_.weight.detach().numpy(),
                                  np.arange(6.0).reshape(2, 3))


TAMPERED = {
    "NaN in a fitted array": ("fitted.mean_", np.array([0.0, np.nan, 1.0]), "NaN or infinite"),
    "complex fitted array": ("fitted.mean_", np.ones(3, dtype=complex), "complex"),
    "flags where floats belong": ("fitted.mean_", np.ones(3, dtype=bool), "dtype bool"),
    "floats where flags belong": ("fitted.is_positive_", np.ones(3), "dtype float64"),
    "another shape": ("fitted.mean_", np.ones(4), r"shape \(4,\)"),
    "an unlisted array": ("fitted.intruder_", np.ones(3), "does not list"),
    "NaN in a weight": ("module.net_.weight", np.full((2, 3), np.nan), "NaN or infinite"),
    "a history of flags": ("history.loss", np.ones(2, dtype=bool), "dtype bool"),
}


@pytest.mark.parametrize("name, value, message", TAMPERED.values(), ids=TAMPERED)
def test_tampered_arrays_are_refused(probe_run: Path, name, value, message) -> None:
    run = RunDirectory.open(probe_run)
    run.save_arrays(**{**run.load_arrays(), name: value})
    with pytest.raises(ValueError, match=message) as error:
        sk.load(probe_run)
    assert "arrays.npz" in _one_line(error)


def test_history_may_hold_nan_and_saved_nonfinite_arrays_load(probe_run: Path,
                                                              tmp_path: Path) -> None:
    # A logged quantity can be undefined at a step; the history is never computed with.
    run = RunDirectory.open(probe_run)
    run.save_arrays(**{**run.load_arrays(), "history.loss": np.array([np.nan, 1.0])})
    assert np.isnan(sk.load(probe_run).history_["loss"][0])
    # A fitted array that really held inf when saved (like an infinite validity gap) is
    # recorded as such and loads; the same value appearing later is refused.
    probe = sk.load(probe_run)
    probe.mean_ = np.array([np.inf, 0.0, 1.0])
    saved = Path(probe.save(tmp_path / "inf"))
    assert RunDirectory.open(saved).config()["nonfinite_arrays"] == ["fitted.mean_"]
    assert np.isinf(sk.load(saved).mean_[0])


def test_runs_saved_before_the_specs_load_and_are_checked_by_dtype(probe_run: Path) -> None:
    def forget(config):
        for key in ("array_specs", "nonfinite_arrays", "fitted_attributes"):
            del config[key]

    _edit_config(probe_run, forget)
    assert sk.load(probe_run).n_features_in_ == 3
    run = RunDirectory.open(probe_run)
    arrays = run.load_arrays()
    checks = {"fitted.mean_": (np.array([np.inf, 0.0, 1.0]), "NaN or infinite"),
              "module.net_.bias": (np.ones(2, dtype=complex), "complex"),
              "module.net_.weight": (np.ones((2, 3), dtype=np.int64), "dtype int64"),
              "history.loss": (np.ones(2, dtype=bool), "dtype bool")}
    for name, (value, message) in checks.items():
        run.save_arrays(**{**arrays, name: value})
        with pytest.raises(ValueError, match=message) as error:
            sk.load(probe_run)
        _one_line(error)


def test_module_weights_are_checked_against_the_built_module(probe_run: Path) -> None:
    run = RunDirectory.open(probe_run)
    arrays = run.load_arrays()
    run.save_arrays(**{**arrays, "module.net_.weight": np.ones((3, 2))})
    _edit_config(probe_run, lambda c: c["array_specs"].update({"module.net_.weight":
                                                               ["<f8", [3, 2]]}))
    with pytest.raises(ValueError, match=r"weights of 'net_'.*shape \(3, 2\), expected "
                                         r"\(2, 3\)") as error:
        sk.load(probe_run)
    _one_line(error)


# ------------------------------------------------------ LieGAN / SymmetryGAN: missing entries
MISSING = [("fitted", "mean_"), ("fitted", "n_features_in_"), ("fitted", "n_steps_"),
           ("arrays", "generator_"), ("history", "d_loss")]


@pytest.mark.parametrize("cls", [LieGAN, SymmetryGAN])
@pytest.mark.parametrize("section, key", MISSING)
def test_gans_with_missing_entries_name_them(gans, tmp_path: Path, cls, section, key) -> None:
    path = Path(shutil.copytree(gans[cls], tmp_path / "run"))
    _edit_config(path, lambda config: config[section].pop(key))
    with pytest.raises(ValueError) as error:
        cls.load(path)
    message = _one_line(error)
    assert str(path) in message
    # a lost history entry leaves its array unlisted in the config; others are named
    assert (key if section != "history" else f"history.{key}") in message


def test_gans_saved_before_the_attribute_list_name_what_is_missing(gans, tmp_path) -> None:
    path = Path(shutil.copytree(gans[LieGAN], tmp_path / "run"))

    def strip(config):
        for key in ("array_specs", "nonfinite_arrays", "fitted_attributes"):
            del config[key]
        del config["arrays"]["generators_"]

    _edit_config(path, strip)
    with pytest.raises(ValueError, match="generators_") as error:
        sk.load(path)
    assert "incomplete" in _one_line(error)
    path = Path(shutil.copytree(gans[LieGAN], tmp_path / "run2"))
    _edit_config(path, lambda config: [config.pop(key) for key in (
        "array_specs", "nonfinite_arrays", "fitted_attributes", "history")])
    with pytest.raises(ValueError, match=r"lacks its fitted state \('history_'\)") as error:
        sk.load(path)
    _one_line(error)


@pytest.mark.parametrize("edit, message", [
    (lambda c: c.pop("mean"), "lacks 'mean'"),
    (lambda c: [c.pop("n_steps_run"), c.pop("scale")], "lacks 'n_steps_run', 'scale'"),
    (lambda c: c.update(n_features_in="5"), "'n_features_in' must be a finite integer"),
    (lambda c: c.update(mean=None), "'mean' must be a finite number"),
])
def test_format_1_gans_with_missing_entries_name_them(tmp_path: Path, edit, message) -> None:
    path = Path(shutil.copytree(LEGACY / "liegan_v1", tmp_path / "run"))
    _edit_config(path, edit)
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match=message) as error:
        LieGAN.load(path)
    _one_line(error)


@pytest.mark.parametrize("name, value, message", [
    ("generator", None, r"lacks \['generator'\]"),
    ("generator", np.full((5, 5), np.nan), "NaN or infinite"),
    ("generators", np.ones((1, 5, 5), dtype=complex), "complex"),
])
def test_format_1_gans_with_bad_arrays_are_refused(tmp_path: Path, name, value, message) -> None:
    path = Path(shutil.copytree(LEGACY / "liegan_v1", tmp_path / "run"))
    run = RunDirectory.open(path)
    arrays = run.load_arrays()
    arrays.pop(name)
    run.save_arrays(**arrays, **({} if value is None else {name: value}))
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match=message) as error:
        LieGAN.load(path)
    _one_line(error)


# ------------------------------------------------------------- checkpoints: metadata checked
def test_an_edited_next_step_is_refused_not_taken_for_a_finished_fit(tmp_path: Path) -> None:
    store = _checkpoint(tmp_path / "ckpt")
    arrays, meta = store.load(bounds={"next_step": (0, 30)})
    assert meta["next_step"] == 10 and arrays["weights"].shape == (3,)
    run = RunDirectory.open(tmp_path / "ckpt")
    state, saved_meta = run.load_checkpoint()
    run.save_checkpoint(state, {**saved_meta, "next_step": 10**6})
    with pytest.raises(ValueError) as error:
        store.load(bounds={"next_step": (0, 30)})
    message = _one_line(error)
    assert "checkpoint.npz" in message and "'next_step' is 1000000, outside 0..30" in message
    assert store.load()[1]["next_step"] == 10**6  # without bounds: read as it is


@pytest.mark.parametrize("value, message", [
    ("5", "must be an integer, got '5'"), (True, "must be an integer, got True"),
    (2.5, "must be an integer"), (-1, "outside 0..30"), (None, "must be an integer"),
])
def test_checkpoint_fields_are_type_checked(tmp_path: Path, value, message) -> None:
    store = _checkpoint(tmp_path / "ckpt", next_step=value)
    with pytest.raises(ValueError, match=message) as error:
        store.load(bounds={"next_step": (0, 30)})
    assert "checkpoint.npz" in _one_line(error)


def test_optional_and_missing_checkpoint_fields(tmp_path: Path) -> None:
    store = _checkpoint(tmp_path / "ckpt", next_step=None)
    assert store.load(bounds={"next_step": (0, 30)}, optional=("next_step",))[1][
        "next_step"] is None
    with pytest.raises(ValueError, match="lacks 'restarts'"):
        store.load(bounds={"restarts": (0, 3)})


def test_missing_checkpoint_entries_name_the_file(tmp_path: Path) -> None:
    arrays, meta = _checkpoint(tmp_path / "ckpt").load()
    for entries, key in ((arrays, "now.a"), (meta, "padding")):
        with pytest.raises(MissingEntryError) as error:
            entries[key]
        assert isinstance(error.value, ValueError) and isinstance(error.value, KeyError)
        assert "checkpoint.npz" in _one_line(error) and repr(key) in str(error.value)


def test_checkpoint_metadata_must_be_a_json_object(tmp_path: Path) -> None:
    store = _checkpoint(tmp_path / "ckpt")
    file = tmp_path / "ckpt" / "checkpoint.npz"
    _replace_member(file, "__meta__", _npy_bytes(np.frombuffer(b"[1, 2]", dtype=np.uint8)))
    with pytest.raises(ValueError, match="must be a JSON object") as error:
        store.load()
    _one_line(error)
    _replace_member(file, "__meta__", _npy_bytes(np.frombuffer(b"{oops", dtype=np.uint8)))
    with pytest.raises(ValueError, match="not valid JSON"):
        store.load()


def test_restore_helpers_check_the_arrays_against_the_built_objects(tmp_path: Path) -> None:
    arrays, _ = _checkpoint(tmp_path / "ckpt").load()
    module = torch.nn.Linear(3, 2)
    state = {f"m.{k}": v.detach().numpy() for k, v in module.state_dict().items()}
    bad = {"m.weight": np.ones((3, 3), dtype=np.float32), "m.bias": state["m.bias"]}
    arrays.update(bad)
    with pytest.raises(ValueError, match=r"'m'.*'weight' has shape \(3, 3\)") as error:
        restore_module("m", module, arrays)
    assert "checkpoint.npz" in _one_line(error)
    arrays["rng"] = np.zeros(7, dtype=np.uint8)
    with pytest.raises(ValueError, match="random state 'rng'.*expected uint8") as error:
        restore_rng("rng", torch.Generator(), arrays)
    _one_line(error)
    optimizer = torch.optim.Adam(module.parameters())
    arrays.update({"opt.0.step": np.array(1.0), "opt.0.exp_avg": np.ones((5, 5))})
    with pytest.raises(ValueError, match=r"'opt.0.exp_avg' has shape \(5, 5\)"):
        restore_optimizer("opt", optimizer, arrays, torch.device("cpu"))
    arrays = {k: v for k, v in arrays.items() if not k.startswith("opt.")}
    arrays["opt.9.step"] = np.array(1.0)
    with pytest.raises(ValueError, match="names no parameter"):
        restore_optimizer("opt", optimizer, arrays, torch.device("cpu"))


# ------------------------------------------------------------------------ item 10: CSV headers
def test_a_numeric_csv_header_is_read_as_data_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "numbered.csv"
    path.write_text("1,2,3,4,5\n0.5,0.1,0.2,0.3,0.4\n0.7,0.2,0.9,0.1,0.3\n")
    with pytest.warns(UserWarning, match=r"numbered\.csv.*'1,2,3,4,5'.*read as a data row"):
        dataset = sk.datasets.load(path)
    assert dataset.n_samples == 3
    np.testing.assert_array_equal(dataset.X[0], [1, 2, 3, 4, 5])


def test_named_or_commented_headers_and_integer_data_need_no_warning(tmp_path: Path) -> None:
    for text in ("x1,x2,x3\n0.5,0.1,0.2\n0.7,0.2,0.9\n",
                 "# 1,2,3\n0.5,0.1,0.2\n# a comment\n0.7,0.2,0.9\n",
                 "1,2,3\n4,5,6\n7,8,10\n"):
        path = tmp_path / "table.csv"
        path.write_text(text)
        dataset = sk.datasets.load(path)  # pytest turns any warning into an error
        assert dataset.dim == 3 and dataset.n_samples in (2, 3)


@pytest.mark.parametrize("text, message", [
    ("", r"no data \(it is empty\)"),
    ("# only a comment\n\n", "no data"),
    ("x0,x1,x2\n", "header row but no data rows"),
    ("x0,x1,x2\n1,2,3\n4,5\n", "ragged rows: line 3 has 2 comma-separated fields, line 1 has 3"),
    ("1,2,3\n4,5,6,7\n", "ragged rows: line 2 has 4"),
    ("t,1,2\n3,4,5\n", r"line 1 mixes numbers and names \('t'\)"),
    ("1,2\n3,abc\n", "line 2, field 2: 'abc' is non-numeric"),
])
def test_csv_problems_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "table.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        sk.datasets.load(path)
    assert "table.csv" in _one_line(error)


# ------------------------------------------------------------------- item 4: liederiv tampering
@pytest.mark.parametrize("degree, message", [(40, "monomials"), (2.7, "integer")])
def test_a_tampered_dictionary_through_lie_discover_is_one_line(tmp_path: Path, capsys,
                                                                degree, message) -> None:
    model = liederiv.DictionaryModel(liederiv.PolynomialDictionary(2, 2), np.ones((1, 6)))
    path = Path(model.save(tmp_path / "model"))
    _edit_config(path, lambda c: c["params"]["dictionary"].update(n_features=40 if degree == 40
                                                                   else 2, degree=degree))
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(10, 2)))
    assert main(["lie", "discover", "--data", str(tmp_path / "x.npy"), "--algebra", "so(2)",
                 "--model", str(path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and "model" in err[0]


# --------------------------------------------------------------- no pickle is ever executed
class _Payload:
    """Unpickling this creates ``marker``: proof that a loader executed a pickle."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _objects(marker: Path) -> np.ndarray:
    array = np.empty(2, dtype=object)
    array[:] = [_Payload(marker), 1.0]
    return array


def _legacy_copy(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(LEGACY / name, tmp_path / name))


def _poison_npz(file: Path, member: str, marker: Path) -> None:
    _replace_member(file, member, _npy_bytes(_objects(marker)))


def _loaders(tmp_path: Path, marker: Path, probe_run: Path):
    """Each loader with a file whose object array would create ``marker`` if unpickled."""
    data_npy = tmp_path / "data.npy"
    np.save(data_npy, _objects(marker), allow_pickle=True)
    yield "datasets.load .npy", lambda: sk.datasets.load(data_npy), False
    data_npz = tmp_path / "data.npz"
    np.savez(data_npz, X=_objects(marker))
    yield "datasets.load .npz", lambda: sk.datasets.load(data_npz), False
    _poison_npz(probe_run / "arrays.npz", "fitted.mean_", marker)
    yield "symmetrykit.load", lambda: sk.load(probe_run), False
    store = _checkpoint(tmp_path / "ckpt")
    _poison_npz(tmp_path / "ckpt" / "checkpoint.npz", "weights", marker)
    yield "Checkpoint.load", store.load, False
    model = Path(liederiv.DictionaryModel(liederiv.PolynomialDictionary(2, 1),
                                          np.ones(3)).save(tmp_path / "model"))
    _write_zip(model / "arrays.npz", {"coef": _npy_bytes(_objects(marker))})
    yield "liederiv.load_model", lambda: liederiv.load_model(model), False
    for name, member in (("lens_v1", "generator"), ("liegan_v1", "generator"),
                         ("liederiv_dictionary_model", "coef")):
        path = _legacy_copy(name, tmp_path)
        _poison_npz(path / "arrays.npz", member, marker)
        yield f"legacy {name}", lambda path=path: sk.load(path), True
    flow = _legacy_copy("flow_kdv", tmp_path)
    _poison_npz(flow / "flow.npz", "fitted.scales_", marker)
    meta = json.loads((flow / "flow.json").read_text())
    meta["arrays_sha256"] = hashlib.sha256((flow / "flow.npz").read_bytes()).hexdigest()
    (flow / "flow.json").write_text(json.dumps(meta))
    yield "legacy flow", lambda: sk.load(flow), True


def test_pickle_payloads_are_never_executed(tmp_path: Path, probe_run: Path) -> None:
    # The payload is live: numpy with pickling allowed does create the marker.
    control = tmp_path / "control-marker"
    np.save(tmp_path / "control.npy", _objects(control), allow_pickle=True)
    np.load(tmp_path / "control.npy", allow_pickle=True)
    assert control.exists()
    marker = tmp_path / "marker"
    seen = []
    for name, load, legacy in _loaders(tmp_path, marker, probe_run):
        with pytest.raises(ValueError, match="pickle") as error:
            if legacy:
                with pytest.warns(DeprecationWarning):
                    load()
            else:
                load()
        _one_line(error)
        assert not marker.exists(), name
        seen.append(name)
    assert len(seen) == 9
