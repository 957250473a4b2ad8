"""Every optimizer exported by minigrad.optim converges on a parabola and on Rosenbrock's valley.

As in optax's tests: the parabola ``sum((x - x*)^2)`` from (-1, 10, 1) to (1, -1, 1)
(driven through autograd), and Rosenbrock ``(1-x)^2 + 100 (y-x^2)^2`` from (0, 0) to
(1, 1) (analytic gradient, so the many steps stay cheap).  Each optimizer gets the
hyper-parameters that suit it; a new optimizer without an entry here fails the test.
"""
import inspect

import numpy as np
import pytest

from minigrad import optim
from minigrad.nn import Parameter

OPTIMIZERS = [name for name in optim.__all__
              if inspect.isclass(getattr(optim, name)) and issubclass(getattr(optim, name), optim.Optimizer)
              and getattr(optim, name) is not optim.Optimizer]

# name -> ((parabola options, steps), (Rosenbrock options, steps))
SETTINGS = {
    "SGD": ((dict(lr=1e-3, momentum=0.9), 1000), (dict(lr=1e-3, momentum=0.9), 5000)),
    "Adagrad": ((dict(lr=1.0), 1000), (dict(lr=0.5), 20000)),
    "RMSprop": ((dict(lr=1e-2), 2000), (dict(lr=1e-3, momentum=0.9), 5000)),
    "Adadelta": ((dict(lr=10.0), 1000), (dict(lr=0.02, rho=0.95), 20000)),
    "Adam": ((dict(lr=0.1), 1000), (dict(lr=0.05), 5000)),
    "AdamW": ((dict(lr=0.1, weight_decay=0.0), 1000), (dict(lr=0.05, weight_decay=0.0), 5000)),
    "Adamax": ((dict(lr=0.1), 1000), (dict(lr=0.1), 5000)),
    "NAdam": ((dict(lr=0.05), 1000), (dict(lr=0.01), 10000)),
    "RAdam": ((dict(lr=0.1), 1000), (dict(lr=0.05), 5000)),
    "Adafactor": ((dict(lr=0.05), 1000), (dict(lr=0.003), 20000)),
    "LARS": ((dict(lr=0.1, trust_coefficient=0.01), 3000), (dict(lr=0.1, trust_coefficient=0.01), 10000)),
    "LAMB": ((dict(lr=1e-3), 5000), (dict(lr=1e-3), 20000)),
}


def test_every_exported_optimizer_is_covered():
    assert len(OPTIMIZERS) >= 12
    missing = [name for name in OPTIMIZERS if name not in SETTINGS]
    assert not missing, f"add convergence settings for {missing}"


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_parabola(name):
    kw, steps = SETTINGS[name][0]
    target = np.array([1.0, -1.0, 1.0])
    x = Parameter(np.array([-1.0, 10.0, 1.0]))
    opt = getattr(optim, name)([x], **kw)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((x - target) ** 2).sum()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(x.data, target, atol=1e-2, err_msg=f"{name}({kw}) after {steps} steps")


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_rosenbrock(name):
    kw, steps = SETTINGS[name][1]
    v = Parameter(np.array([0.0, 0.0]))
    opt = getattr(optim, name)([v], **kw)
    for _ in range(steps):
        x, y = v.data
        v.grad = np.array([-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)])
        opt.step()
    np.testing.assert_allclose(v.data, [1.0, 1.0], atol=1e-2, err_msg=f"{name}({kw}) after {steps} steps")
