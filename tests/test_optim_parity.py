"""minigrad.optim matches torch.optim in float64 to ~1e-12, option by option.

Three parameters in two groups (the second with its own lr), 60 steps of a
non-quadratic loss, one parameter without a gradient every third step (it must
be skipped), and a state_dict resume into a fresh optimizer at step 30: the
resumed run must follow torch's uninterrupted one.
"""
import numpy as np
import pytest
import torch

from minigrad import optim
from minigrad.nn import Parameter

STEPS, RESUME_AT = 60, 30
SHAPES = [(3, 4), (5,), (2, 2, 3)]

CONFIGS = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.3, eps=1e-6)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-4, weight_decay=0.1)),
    ("Adadelta", dict(maximize=True)),
    ("Adam", dict(lr=0.02)),
    ("Adam", dict(lr=0.02, amsgrad=True)),
    ("Adam", dict(lr=0.02, betas=(0.3, 0.9), eps=1e-4, weight_decay=0.1)),
    ("Adam", dict(lr=0.02, weight_decay=0.1, decoupled_weight_decay=True, amsgrad=True)),
    ("Adam", dict(lr=0.02, maximize=True)),
    ("AdamW", dict(lr=0.02)),
    ("AdamW", dict(lr=0.02, weight_decay=0.3, amsgrad=True, betas=(0.6, 0.95))),
    ("AdamW", dict(lr=0.02, maximize=True)),
    ("Adamax", dict(lr=0.02)),
    ("Adamax", dict(lr=0.02, betas=(0.2, 0.5), eps=1e-3, weight_decay=0.1)),
    ("Adamax", dict(lr=0.02, maximize=True)),
]


@pytest.fixture(autouse=True)
def torch_float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def _grad(x, t):
    """Gradient of a non-quadratic loss; the same function feeds both libraries."""
    return 2.0 * x + np.cos(3.0 * x) + 0.2 * np.sin(t + x)


def _groups(params, kw):
    return [{"params": params[:2]}, {"params": params[2:], "lr": kw.get("lr", 1.0) * 0.5}]


def _set_grads(ours, theirs, t):
    for k, (p, q) in enumerate(zip(ours, theirs)):
        if k == 1 and t % 3 == 2:  # no gradient: both must skip this parameter
            p.grad, q.grad = None, None
        else:
            p.grad = _grad(p.data, t)
            q.grad = torch.from_numpy(_grad(q.detach().numpy(), t))


def _assert_close(ours, theirs, where):
    for i, (p, q) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=f"parameter {i} {where}")


@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_parity_with_torch(name, kw):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s) for s in SHAPES]
    ours = [Parameter(a.copy()) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(optim, name)(_groups(ours, kw), **kw)
    topt = getattr(torch.optim, name)(_groups(theirs, kw), **kw)
    for t in range(STEPS):
        if t == RESUME_AT:  # resume: fresh parameters and a fresh optimizer from the state dict
            saved = opt.state_dict()
            ours = [Parameter(p.data.copy()) for p in ours]
            opt = getattr(optim, name)(_groups(ours, kw), **kw)
            opt.load_state_dict(saved)
        _set_grads(ours, theirs, t)
        opt.step()
        topt.step()
        _assert_close(ours, theirs, f"after step {t + 1} of {name}({kw})")

    # the state dict has torch's layout: same groups, same option names, same state names and values
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in tsd["param_groups"]]
    for g, tg in zip(sd["param_groups"], tsd["param_groups"]):
        assert set(g) == set(tg)
        for key in ("lr", "weight_decay", "eps", "momentum", "betas", "alpha", "rho", "maximize"):
            if key in tg:
                assert g[key] == pytest.approx(tg[key]) if key != "betas" else tuple(g[key]) == tuple(tg[key])
    assert set(sd["state"]) == set(tsd["state"])
    for i, st in tsd["state"].items():
        assert set(sd["state"][i]) == set(st), (i, set(sd["state"][i]), set(st))
        for key, value in st.items():
            if value is None:
                assert sd["state"][i][key] is None
            elif key == "step":
                assert sd["state"][i][key] == float(value)
            else:
                np.testing.assert_allclose(sd["state"][i][key], value.numpy(), rtol=1e-12, atol=1e-14)
