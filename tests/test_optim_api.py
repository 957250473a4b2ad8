"""The Optimizer API: validation, param groups, skipping, closure, state_dict, state_bytes, flat buffers."""
import io
import re

import numpy as np
import pytest

import minigrad
import minigrad.functional as F
from minigrad import nn, optim
from minigrad.nn import Parameter
from minigrad.tensor import Tensor

MINE = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax"]


def _params(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [Parameter(rng.standard_normal(s).astype(dtype)) for s in [(3, 4), (5,), (2, 3)]]


def _grads(params, t, skip=None):
    for k, p in enumerate(params):
        p.grad = None if k == skip else (np.cos(p.data * (t + 1)) + p.data).astype(p.data.dtype)


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize("cls,kw,message", [
    (optim.SGD, dict(lr=-0.1), "Invalid learning rate: -0.1"),
    (optim.SGD, dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    (optim.SGD, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    (optim.SGD, dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (optim.SGD, dict(nesterov=True, momentum=0.9, dampening=0.1), "Nesterov momentum requires a momentum"),
    (optim.Adam, dict(lr=-1e-3), "Invalid learning rate: -0.001"),
    (optim.Adam, dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (optim.Adam, dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (optim.Adam, dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (optim.AdamW, dict(weight_decay=-0.01), "Invalid weight_decay value: -0.01"),
    (optim.Adamax, dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    (optim.Adagrad, dict(lr_decay=-1), "Invalid lr_decay value: -1"),
    (optim.Adagrad, dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
    (optim.RMSprop, dict(alpha=-0.5), "Invalid alpha value: -0.5"),
    (optim.RMSprop, dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    (optim.Adadelta, dict(rho=1.5), "Invalid rho value: 1.5"),
])
def test_bad_hyperparameters_are_rejected_with_torch_messages(cls, kw, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        cls(_params(), **kw)


def test_bad_parameter_lists():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.Adam([])
    p = Parameter(np.ones(3))
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="floating-point"):
        optim.SGD([Tensor(np.arange(3))], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.ones(3)], lr=0.1)
    with pytest.raises(TypeError, match="sets"):
        optim.SGD({p}, lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2.0], lr=0.1)
    with pytest.raises(TypeError, match="betas must be a pair"):
        optim.Adam([p], betas=0.9)
    with pytest.raises(TypeError, match="learning rate"):
        optim.Adam([p], lr="fast")


def test_add_param_group_uses_defaults_and_rejects_shared_parameters():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(3))
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0.9
    assert len(opt.param_groups[1]["params"]) == 1 and opt.param_groups[1]["params"][0] is b
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    assert len(opt.param_groups) == 2
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([b])


def test_repr_lists_groups():
    text = repr(optim.Adam(_params(), lr=0.01))
    assert text.startswith("Adam (") and "Parameter Group 0" in text and "lr: 0.01" in text


# ------------------------------------------------------------ step semantics
@pytest.mark.parametrize("name", MINE)
def test_parameters_without_grad_are_skipped(name):
    params = _params()
    opt = getattr(optim, name)(params, lr=0.01)
    before = params[1].data.copy()
    _grads(params, 0, skip=1)
    opt.step()
    np.testing.assert_array_equal(params[1].data, before)
    assert not opt.state.get(params[1]) or name == "Adagrad"  # Adagrad's state is made eagerly, as torch
    assert not np.array_equal(params[0].data, _params()[0].data)


def test_closure_is_called_with_grad_enabled_and_its_loss_returned():
    w = Parameter(np.array([3.0]))
    opt = optim.SGD([w], lr=0.1)
    calls = []

    def closure():
        opt.zero_grad()
        calls.append(minigrad.is_grad_enabled())
        loss = (w * w).sum()
        loss.backward()
        return loss

    with minigrad.no_grad():
        loss = opt.step(closure)
    assert calls == [True] and loss.item() == 9.0
    np.testing.assert_allclose(w.data, [3.0 - 0.1 * 6.0])


def test_zero_grad():
    params = _params()
    opt = optim.SGD(params, lr=0.1)
    _grads(params, 0)
    views = [p.grad for p in params]
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is v and not v.any() for p, v in zip(params, views))
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_non_contiguous_parameter_is_updated_in_place():
    base = np.arange(12.0).reshape(3, 4)
    p = Parameter(base.T)  # a transposed view
    opt = optim.Adam([p], lr=0.5)
    p.grad = np.ones((4, 3))
    opt.step()
    np.testing.assert_allclose(base.T, np.arange(12.0).reshape(3, 4).T - 0.5)


def test_float32_parameters_stay_float32():
    params = _params(np.float32)
    for name in MINE:
        opt = getattr(optim, name)(params, lr=0.01)
        _grads(params, 0)
        opt.step()
        assert all(p.data.dtype == np.float32 for p in params)
        assert all(v.dtype == np.float32 for st in opt.state.values() for v in st.values()
                   if isinstance(v, np.ndarray))


# ------------------------------------------------------------------ state_bytes
def test_state_bytes():
    params = _params()
    nbytes = sum(p.data.nbytes for p in params)
    expected = {("SGD", 0): 0, ("SGD", 0.9): nbytes, ("Adam", False): 2 * nbytes, ("Adam", True): 3 * nbytes}
    for (name, option), want in expected.items():
        kw = {"momentum": option} if name == "SGD" else {"amsgrad": option}
        opt = getattr(optim, name)(params, lr=0.01, **kw)
        assert opt.state_bytes() == 0 or name == "Adagrad"
        _grads(params, 0)
        opt.step()
        assert opt.state_bytes() == want
    assert optim.Adagrad(params).state_bytes() == nbytes  # eager state, as torch


# ------------------------------------------------------------------ state_dict
def _train(opt, params, steps, start=0):
    for t in range(start, start + steps):
        _grads(params, t, skip=2 if t % 4 == 3 else None)
        opt.step()


@pytest.mark.parametrize("name,kw", [("Adam", dict(amsgrad=True)), ("SGD", dict(momentum=0.9, nesterov=True)),
                                     ("RMSprop", dict(centered=True, momentum=0.5)), ("Adagrad", {}),
                                     ("Adadelta", {}), ("Adamax", {}), ("AdamW", {})])
def test_resume_after_numpy_savez_is_bit_identical(name, kw):
    cls = getattr(optim, name)
    params = _params()
    opt = cls([{"params": params[:2]}, {"params": params[2:], "lr": 0.003}], lr=0.01, **kw)
    _train(opt, params, 10)
    # save everything in one .npz: arrays as they are, the rest flattened into arrays too
    sd = opt.state_dict()
    arrays = {}
    for i, st in sd["state"].items():
        for k, v in st.items():
            arrays[f"state/{i}/{k}"] = np.asarray(v)
    for gi, g in enumerate(sd["param_groups"]):
        for k, v in g.items():
            arrays[f"group/{gi}/{k}"] = np.asarray(v if v is not None else np.nan)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    saved_params = [p.data.copy() for p in params]
    _train(opt, params, 10, start=10)  # the uninterrupted run
    buf.seek(0)
    loaded = np.load(buf)
    state, groups = {}, [{}, {}]
    for key in loaded.files:
        kind, i, k = key.split("/")
        value = loaded[key]
        if kind == "state":
            state.setdefault(int(i), {})[k] = value
        else:
            groups[int(i)][k] = None if value.dtype.kind == "f" and value.ndim == 0 and np.isnan(value) else value
    params2 = [Parameter(a) for a in saved_params]
    opt2 = cls([{"params": params2[:2]}, {"params": params2[2:], "lr": 0.003}], lr=0.01, **kw)
    opt2.load_state_dict({"state": state, "param_groups": groups})
    assert opt2.param_groups[1]["lr"] == 0.003 and isinstance(opt2.param_groups[0]["lr"], float)
    _train(opt2, params2, 10, start=10)
    for p, q in zip(params, params2):
        np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_layout_and_copies():
    params = _params()
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}])
    _grads(params, 0, skip=1)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1, 2]]
    assert sorted(sd["state"]) == [0, 2] and sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "step"]
    assert sd["state"][0]["step"] == 1.0
    sd["state"][0]["exp_avg"][...] = 123.0  # a copy: the optimizer is not affected
    assert not np.any(opt.state[params[0]]["exp_avg"] == 123.0)


def _snapshot(opt):
    return repr(opt.param_groups), {id(p): {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                           for k, v in st.items()} for p, st in opt.state.items()}


def _same(a, b):
    if a[0] != b[0] or a[1].keys() != b[1].keys():
        return False
    return all(np.array_equal(a[1][i][k], b[1][i][k]) for i in a[1] for k in a[1][i])


@pytest.mark.parametrize("mutate,message", [
    (lambda sd: sd["param_groups"].pop(), "different number of parameter groups"),
    (lambda sd: sd["param_groups"][1]["params"].pop(), "doesn't match the size"),
    (lambda sd: sd["state"][0].__setitem__("exp_avg", np.zeros((4, 3))), "has shape (4, 3), expected (3, 4)"),
    (lambda sd: sd["state"][2].pop("exp_avg_sq"), "lacks ['exp_avg_sq']"),
    (lambda sd: sd["state"].__setitem__(7, {"step": 1.0}), "parameter index 7"),
    (lambda sd: sd["state"][0].__setitem__("step", -1.0), "'step' of parameter 0"),
    (lambda sd: sd.pop("state"), "keys 'state' and 'param_groups'"),
])
def test_rejected_load_state_dict_leaves_the_optimizer_unchanged(mutate, message):
    params = _params()
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}])
    _train(opt, params, 3)
    good = opt.state_dict()
    good["state"][2]["exp_avg"] += 1.0
    good["param_groups"][0]["lr"] = 0.25
    bad = opt.state_dict()
    bad["param_groups"][0]["lr"] = 0.25  # a change that must not be applied either
    bad["state"][2]["exp_avg"] += 1.0
    mutate(bad)
    before = _snapshot(opt)
    with pytest.raises(ValueError, match=re.escape(message)):
        opt.load_state_dict(bad)
    assert _same(before, _snapshot(opt))
    opt.load_state_dict(good)  # and a valid one still loads
    assert opt.param_groups[0]["lr"] == 0.25


def test_load_state_dict_casts_to_the_parameter_dtype():
    p64, p32 = _params(np.float64), _params(np.float32)
    opt64, opt32 = optim.Adam(p64), optim.Adam(p32)
    _grads(p64, 0)
    opt64.step()
    opt32.load_state_dict(opt64.state_dict())
    assert opt32.state[p32[0]]["exp_avg"].dtype == np.float32


# --------------------------------------------------------------------- flat mode
def _model(dtype=np.float64, seed=0):
    return nn.MLP([6, 16, 16, 3], rng=seed, dtype=dtype)


def _loss(model, t):
    rng = np.random.default_rng(t)
    x = Tensor(rng.standard_normal((32, 6)).astype(model.parameters().__next__().data.dtype))
    y = rng.integers(0, 3, 32)
    return F.cross_entropy(model(x), y)


def _fit(model, opt, steps, zero):
    for t in range(steps):
        if zero == "module":
            model.zero_grad()
        elif zero == "keep":
            opt.zero_grad(set_to_none=False)
        else:
            opt.zero_grad()
        _loss(model, t).backward()
        opt.step()


@pytest.mark.parametrize("zero", ["none", "keep", "module"])
@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01, weight_decay=0.01)), ("SGD", dict(lr=0.1, momentum=0.9)),
                                     ("RMSprop", dict(lr=0.01, centered=True)), ("AdamW", dict(lr=0.01))])
def test_flat_buffer_step_equals_per_tensor_step(name, kw, zero):
    """A real model trained with backward(): one kernel call per group == one call per tensor, bit for bit."""
    plain, packed = _model(), _model()
    flat = optim.flatten_parameters(packed)
    assert all(np.shares_memory(p.data, flat.data) for p in packed.parameters())
    cls = getattr(optim, name)
    opt_plain = cls(plain.parameters(), **kw)
    opt_flat = cls(packed.parameters(), **kw)
    calls = []
    original = opt_flat._update_flat
    opt_flat._update_flat = lambda *a: (calls.append(a[1].size), original(*a))
    _fit(plain, opt_plain, 8, zero)
    _fit(packed, opt_flat, 8, zero)
    assert calls == [flat.data.size] * 8  # one call per step, over the whole buffer
    for p, q in zip(plain.parameters(), packed.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
        assert np.shares_memory(q.data, flat.data)
    for p, q in zip(plain.parameters(), packed.parameters()):
        for k, v in opt_plain.state[p].items():
            np.testing.assert_array_equal(opt_flat.state[q][k], v)
    assert opt_flat.state_bytes() == opt_plain.state_bytes()
    sd_plain, sd_flat = opt_plain.state_dict(), opt_flat.state_dict()
    for i in sd_plain["state"]:
        for k, v in sd_plain["state"][i].items():
            np.testing.assert_array_equal(sd_flat["state"][i][k], v)


def test_flat_mode_falls_back_when_a_gradient_is_missing_and_resyncs():
    plain, packed = _model(seed=1), _model(seed=1)
    optim.flatten_parameters(packed)
    opt_plain, opt_flat = optim.Adam(plain.parameters(), lr=0.01), optim.Adam(packed.parameters(), lr=0.01)
    calls = []
    original = opt_flat._update_flat
    opt_flat._update_flat = lambda *a: (calls.append(1), original(*a))
    for t in range(6):
        for model, opt in ((plain, opt_plain), (packed, opt_flat)):
            opt.zero_grad()
            _loss(model, t).backward()
            if t == 2:
                list(model.parameters())[-1].grad = None  # skipped this step: its step count falls behind
            opt.step()
    for p, q in zip(plain.parameters(), packed.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert calls == [1, 1]  # flat before the skip; afterwards the step counts differ: per-tensor path
    # loading a state where all steps agree again makes the group flat once more
    sd = opt_flat.state_dict()
    for st in sd["state"].values():
        st["step"] = 6.0
    opt_flat.load_state_dict(sd)
    opt_flat.zero_grad()
    _loss(packed, 7).backward()
    opt_flat.step()
    assert calls == [1, 1, 1]


def test_flat_mode_with_two_param_groups_and_float32():
    model = _model(np.float32)
    params = list(model.parameters())
    flat = optim.flatten_parameters(params)
    opt = optim.SGD([{"params": params[:2]}, {"params": params[2:], "lr": 0.01}], lr=0.1, momentum=0.9)
    sizes = []
    original = opt._update_flat
    opt._update_flat = lambda *a: (sizes.append(a[1].size), original(*a))
    _fit(model, opt, 3, "none")
    n0 = params[0].size + params[1].size
    assert sizes == [n0, flat.data.size - n0] * 3
    assert flat.data.dtype == np.float32


def test_flatten_parameters_errors():
    with pytest.raises(TypeError, match="one dtype"):
        optim.flatten_parameters([Parameter(np.ones(2)), Parameter(np.ones(2, dtype=np.float32))])
    with pytest.raises(ValueError, match="empty"):
        optim.flatten_parameters([])
    p = Parameter(np.ones(3))
    p.grad = np.full(3, 2.0)
    flat = optim.flatten_parameters([p, p])  # shared parameters are packed once
    assert flat.data.size == 3 and np.shares_memory(p.grad, flat.grad) and p.grad[0] == 2.0


def test_reassigned_parameter_leaves_the_flat_path_safely():
    plain, packed = _model(seed=2), _model(seed=2)
    optim.flatten_parameters(packed)
    opt_plain, opt_flat = optim.SGD(plain.parameters(), lr=0.1), optim.SGD(packed.parameters(), lr=0.1)
    first = list(packed.parameters())[0]
    first.data = first.data.copy()  # no longer a view of the buffer
    for model, opt in ((plain, opt_plain), (packed, opt_flat)):
        _fit(model, opt, 2, "none")
    for p, q in zip(plain.parameters(), packed.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_zero_grad_keeps_flat_gradients_as_zeroed_views():
    model = _model()
    flat = optim.flatten_parameters(model)
    opt = optim.Adam(model.parameters())
    _fit(model, opt, 2, "keep")
    views = [p.grad for p in model.parameters()]
    assert all(np.shares_memory(v, flat.grad) for v in views)
    opt.zero_grad(set_to_none=False)
    assert not flat.grad.any() and all(p.grad is v for p, v in zip(model.parameters(), views))


@pytest.mark.parametrize("module", ["optimizer", "flat", "sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw",
                                    "adamax"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"minigrad.optim.{module}"))
    assert result.failed == 0 and result.attempted > 0


def test_flattened_parameters_can_be_freed():
    import gc
    import weakref

    from minigrad.optim import flat as flat_module

    gc.collect()
    model = _model()
    optim.flatten_parameters(model)
    refs = [weakref.ref(p) for p in model.parameters()]
    before = len(flat_module._REGISTRY)
    del model
    gc.collect()
    assert all(r() is None for r in refs)
    assert len(flat_module._REGISTRY) == before - len(refs)


def test_flat_mode_with_some_gradients_replaced():
    """Views for most parameters, a fresh array for one: copied into the buffer, same result as per tensor."""
    plain, packed = _model(seed=3), _model(seed=3)
    optim.flatten_parameters(packed)
    opt_plain, opt_flat = optim.Adam(plain.parameters(), lr=0.01), optim.Adam(packed.parameters(), lr=0.01)
    for model, opt in ((plain, opt_plain), (packed, opt_flat)):
        _fit(model, opt, 2, "keep")
        last = list(model.parameters())[-1]
        last.grad = np.full(last.shape, 0.25)  # a new array, e.g. set by hand
        opt.step()
    for p, q in zip(plain.parameters(), packed.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
