"""minigrad.train callbacks: hooks, EarlyStopping, TerminateOnNaN, ModelCheckpoint, CSVLogger, TensorBoardLogger."""
import glob
import math
import os
import struct
import types

import numpy as np
import pytest

import minigrad.functional as F
from minigrad import nn, optim
from minigrad.data import DataLoader, StandardScaler, load_digits
from minigrad.train import (Callback, CSVLogger, EarlyStopping, ModelCheckpoint, TensorBoardLogger,
                            TerminateOnNaN, accuracy, fit, load_checkpoint)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits()
    X = StandardScaler().fit(X[:400]).transform(X)
    return X[:400], y[:400], X[400:600], y[400:600]


def make_run(digits, seed=0, lr=1e-2):
    Xtr, ytr, Xva, yva = digits
    model = nn.MLP([64, 16, 10], rng=seed)
    opt = optim.Adam(model.parameters(), lr=lr)
    train = DataLoader(Xtr, ytr, batch_size=50, shuffle=True, rng=seed)
    val = DataLoader(Xva, yva, batch_size=100)
    return model, opt, train, val


# ---------------------------------------------------------------------------------------- hooks
def test_hook_order_and_stop_training(digits):
    events = []

    class Spy(Callback):
        def on_train_begin(self, trainer):
            events.append("train_begin")

        def on_epoch_begin(self, trainer, epoch):
            events.append(f"epoch_begin {epoch}")

        def on_batch_end(self, trainer, step, logs):
            assert set(logs) >= {"loss", "lr", "grad_norm", "update_ratio", "epoch"}
            events.append(f"batch {step}")
            if step == 11:
                trainer.stop_training = True

        def on_epoch_end(self, trainer, epoch, logs):
            assert logs == trainer.history.last()
            events.append(f"epoch_end {epoch}")

        def on_train_end(self, trainer):
            events.append("train_end")

    model, opt, train, val = make_run(digits)
    assert len(train) == 8
    h = fit(model, F.cross_entropy, opt, train, 5, callbacks=[Spy()], progress=False)
    assert events == (["train_begin", "epoch_begin 1"] + [f"batch {i}" for i in range(1, 9)] + ["epoch_end 1"]
                      + ["epoch_begin 2"] + [f"batch {i}" for i in range(9, 12)] + ["epoch_end 2", "train_end"])
    assert h.num_steps == 11 and h.epochs["epoch"] == [1, 2]


def test_checkpoints_run_after_other_callbacks(digits, tmp_path):
    order = []

    class A(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            order.append("A")

    class Ckpt(ModelCheckpoint):
        def on_epoch_end(self, trainer, epoch, logs):
            order.append("ckpt")
            super().on_epoch_end(trainer, epoch, logs)

    model, opt, train, _ = make_run(digits)
    fit(model, F.cross_entropy, opt, train, 1, callbacks=[Ckpt(tmp_path / "c.npz"), A()], progress=False)
    assert order == ["A", "ckpt"]


# ---------------------------------------------------------------------------------------- EarlyStopping
def _fake_trainer():
    model = nn.Linear(2, 1, rng=0)
    return types.SimpleNamespace(model=model, epoch=0, stop_training=False)


def test_early_stopping_logic_and_restore():
    trainer = _fake_trainer()
    es = EarlyStopping(monitor="val_loss", patience=2)
    es.on_train_begin(trainer)
    weights = {}
    for epoch, v in enumerate([3.0, 2.0, 2.5, 2.1, 2.2], start=1):
        trainer.model.weight.data[...] = epoch          # "training" changes the weights
        trainer.epoch = epoch
        weights[epoch] = trainer.model.state_dict()
        es.on_epoch_end(trainer, epoch, {"val_loss": v})
        if trainer.stop_training:
            break
    assert trainer.stop_training and es.stopped_epoch == 5 and es.best_epoch == 2 and es.best == 2.0
    es.on_train_end(trainer)
    assert np.array_equal(trainer.model.weight.data, weights[2]["weight"])


def test_early_stopping_modes_and_errors():
    assert EarlyStopping(monitor="val_accuracy").mode == "max"
    assert EarlyStopping(monitor="val_loss").mode == "min"
    trainer = _fake_trainer()
    es = EarlyStopping(monitor="val_accuracy", patience=0, min_delta=0.05)
    es.on_train_begin(trainer)
    es.on_epoch_end(trainer, 1, {"val_accuracy": 0.80})
    es.on_epoch_end(trainer, 2, {"val_accuracy": 0.83})     # +0.03 < min_delta: no improvement
    assert trainer.stop_training and es.best == 0.80
    with pytest.raises(KeyError, match="val_f1"):
        EarlyStopping(monitor="val_f1").on_epoch_end(trainer, 3, {"val_loss": 1.0})
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="lowest")


def test_early_stopping_in_fit_restores_best_weights(digits):
    Xtr, ytr, Xva, yva = digits
    # validation labels are a random permutation: fitting the training set makes val loss worse
    rng = np.random.default_rng(0)
    model, opt, train, _ = make_run(digits, lr=3e-2)
    val = DataLoader(Xva, rng.permutation(yva), batch_size=100)
    snapshots = {}

    class Snap(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            snapshots[epoch] = trainer.model.state_dict()

    es = EarlyStopping(patience=1)
    h = fit(model, F.cross_entropy, opt, train, 30, val_loader=val, callbacks=[Snap(), es], progress=False)
    assert len(h) < 30 and es.stopped_epoch == len(h)
    best = int(np.argmin(h.epochs["val_loss"])) + 1
    assert es.best_epoch == best != len(h)
    for k, v in model.state_dict().items():
        assert np.array_equal(v, snapshots[best][k])


# ---------------------------------------------------------------------------------------- TerminateOnNaN
def test_terminate_on_nan_stops_and_keeps_last_finite_parameters(digits):
    model, opt, train, _ = make_run(digits)
    calls = {"n": 0}

    def loss_fn(out, y):
        calls["n"] += 1
        loss = F.cross_entropy(out, y)
        return loss * math.nan if calls["n"] == 13 else loss

    after = {}

    class Snap(Callback):
        def on_batch_end(self, trainer, step, logs):
            after[step] = trainer.model.state_dict()

    term = TerminateOnNaN()
    with pytest.warns(RuntimeWarning, match=r"non-finite loss nan at step 13 \(epoch 2\).*after step 12"):
        h = fit(model, loss_fn, opt, train, 5, callbacks=[Snap(), term], progress=False)
    assert term.stopped_step == 13 and term.stopped_epoch == 2
    assert h.num_steps == 13 and math.isnan(h.steps["loss"][-1]) and calls["n"] == 13
    assert h.epochs["epoch"] == [1, 2]
    for k, v in model.state_dict().items():
        assert np.all(np.isfinite(v))
        assert np.array_equal(v, after[12][k])          # the parameters after the last finite step
    assert not all(np.array_equal(v, after[13][k]) for k, v in model.state_dict().items())


def test_terminate_on_nan_real_divergence(digits):
    model, opt, train, _ = make_run(digits)
    opt = optim.SGD(model.parameters(), lr=50.0)         # far too large: the weights blow up

    def loss_fn(out, y):
        return ((out - 1.0) ** 4).mean()                 # quartic: overflows to inf, then nan

    term = TerminateOnNaN()
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning, match="TerminateOnNaN"):
        h = fit(model, loss_fn, opt, train, 3, callbacks=[term], progress=False)
    assert not math.isfinite(h.steps["loss"][-1]) and all(map(math.isfinite, h.steps["loss"][:-1]))
    assert term.stopped_step == h.num_steps < 3 * len(train)
    assert all(np.all(np.isfinite(p.data)) for p in model.parameters())


# ---------------------------------------------------------------------------------------- ModelCheckpoint
def test_model_checkpoint_files(digits, tmp_path):
    model, opt, train, val = make_run(digits)
    every = ModelCheckpoint(tmp_path / "ep{epoch:02d}-{val_loss:.3f}.npz")
    best = ModelCheckpoint(tmp_path / "best.npz", monitor="val_accuracy", save_best_only=True)
    h = fit(model, F.cross_entropy, opt, train, 3, val_loader=val, metrics=[accuracy],
            callbacks=[every, best], progress=False)
    names = sorted(os.listdir(tmp_path))
    assert names == sorted([f"ep{e:02d}-{v:.3f}.npz" for e, v in zip(h.epochs["epoch"], h.epochs["val_loss"])]
                           + ["best.npz"])
    ck = load_checkpoint(tmp_path / "best.npz")
    best_epoch = int(np.argmax(h.epochs["val_accuracy"])) + 1
    assert ck["epoch"] == best_epoch and best.best == max(h.epochs["val_accuracy"])
    last = load_checkpoint(every.last_path)
    assert last["epoch"] == 3 and last["global_step"] == 3 * len(train)
    for k, v in model.state_dict().items():
        assert np.array_equal(last["model"][k], v)
    with np.load(every.last_path, allow_pickle=False) as npz:
        assert len(npz.files) > 5
    with pytest.raises(ValueError, match="cannot format"):
        fit(model, F.cross_entropy, opt, train, 1, callbacks=[ModelCheckpoint(tmp_path / "{nope}.npz")],
            progress=False)


# ---------------------------------------------------------------------------------------- CSVLogger
def test_csv_logger_writes_the_epoch_table(digits, tmp_path):
    model, opt, train, val = make_run(digits)
    path = tmp_path / "log.csv"
    h = fit(model, F.cross_entropy, opt, train, 2, val_loader=val, metrics=[accuracy],
            callbacks=[CSVLogger(path)], progress=False)
    assert path.read_text() == h.to_csv()
    # append (e.g. after resuming): header kept once, rows added
    ckpt = tmp_path / "c.npz"
    model, opt, train, val = make_run(digits)
    fit(model, F.cross_entropy, opt, train, 1, val_loader=val, metrics=[accuracy],
        callbacks=[CSVLogger(tmp_path / "run.csv"), ModelCheckpoint(ckpt)], progress=False)
    h2 = fit(model, F.cross_entropy, opt, train, 2, val_loader=val, metrics=[accuracy],
             callbacks=[CSVLogger(tmp_path / "run.csv", append=True), ModelCheckpoint(ckpt)],
             progress=False, resume_from=ckpt)
    assert (tmp_path / "run.csv").read_text() == h2.to_csv()


# ---------------------------------------------------------------------------------------- TensorBoard
def _read_events(path):
    """Parse a TFRecord file (what TensorBoard reads) and decode its Event protos."""
    from tensorboardX.crc32c import crc32c
    from tensorboardX.proto.event_pb2 import Event

    def masked(data):
        x = crc32c(data)
        return (((x >> 15) | (x << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    events = []
    with open(path, "rb") as f:
        raw = f.read()
    pos = 0
    while pos < len(raw):
        header = raw[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (hcrc,) = struct.unpack("<I", raw[pos + 8:pos + 12])
        assert hcrc == masked(header), "corrupt length"
        data = raw[pos + 12:pos + 12 + length]
        (dcrc,) = struct.unpack("<I", raw[pos + 12 + length:pos + 16 + length])
        assert dcrc == masked(data), "corrupt record"
        events.append(Event.FromString(data))
        pos += 16 + length
    return events


def test_tensorboard_logger_writes_readable_events(digits, tmp_path):
    pytest.importorskip("tensorboardX")
    model, opt, train, val = make_run(digits)
    h = fit(model, F.cross_entropy, opt, train, 2, val_loader=val, metrics=[accuracy],
            callbacks=[TensorBoardLogger(tmp_path / "tb")], progress=False)
    files = glob.glob(str(tmp_path / "tb" / "events.out.tfevents.*"))
    assert len(files) == 1
    scalars, histos = {}, {}
    for ev in _read_events(files[0]):
        for v in ev.summary.value:
            if v.HasField("histo"):
                histos.setdefault(v.tag, []).append((ev.step, v.histo))
            else:
                scalars.setdefault(v.tag, []).append((ev.step, v.simple_value))
    n = h.num_steps
    for tag in ("loss", "lr", "grad_norm", "update_ratio"):
        steps, values = zip(*scalars[f"train/{tag}"])
        assert list(steps) == h.steps["step"]
        np.testing.assert_allclose(values, h.steps[tag], rtol=1e-6)   # stored as float32
    assert len(scalars["train/loss"]) == n
    for key in ("train_loss", "val_loss", "val_accuracy", "time"):
        steps, values = zip(*scalars[f"epoch/{key}"])
        assert list(steps) == [1, 2]
        np.testing.assert_allclose(values, h.epochs[key], rtol=1e-6)
    names = [name for name, _ in model.named_parameters()]
    for name in names:
        assert [s for s, _ in histos[f"weights/{name}"]] == [1, 2]
        assert [s for s, _ in histos[f"grads/{name}"]] == [1, 2]
    w = dict(model.named_parameters())[names[0]].data
    last = histos[f"weights/{names[0]}"][-1][1]
    assert last.num == w.size and last.min == pytest.approx(w.min()) and last.max == pytest.approx(w.max())


def test_tensorboard_logger_validates_arguments(tmp_path):
    pytest.importorskip("tensorboardX")
    with pytest.raises(ValueError, match="histogram_freq"):
        TensorBoardLogger(tmp_path, histogram_freq=-1)
    with pytest.raises(ValueError, match="log_every_n_steps"):
        TensorBoardLogger(tmp_path, log_every_n_steps=0)
