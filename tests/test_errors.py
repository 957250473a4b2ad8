"""Bad input gets a clear error that names the operation and the offending values."""
import re

import numpy as np
import pytest

import minigrad
import minigrad.functional as F
from minigrad import Tensor, nn


def t(shape, requires_grad=False):
    return Tensor(np.ones(shape), requires_grad=requires_grad)


def _backward_twice():
    x = t(2, True)
    loss = (x * x).sum()
    loss.backward()
    loss.backward()


# (id, thunk, exception type, fragments that must all appear in the message)
BAD_INPUT = [
    # broadcasting and matmul shape mismatches: both shapes in the message
    ("add_broadcast", lambda: t((3, 4)) + t((5,)), ValueError, ["add", "(3, 4)", "(5,)", "broadcast"]),
    ("sub_broadcast_ndarray", lambda: np.ones((2, 3)) - t((3, 2)), ValueError, ["sub", "(2, 3)", "(3, 2)"]),
    ("mul_broadcast", lambda: t((2, 3)) * t((4, 1, 2)), ValueError, ["mul", "(2, 3)", "(4, 1, 2)"]),
    ("div_broadcast", lambda: t(3) / t(4), ValueError, ["div", "(3,)", "(4,)"]),
    ("pow_broadcast", lambda: t(3) ** t(2), ValueError, ["pow", "(3,)", "(2,)"]),
    ("matmul_2d", lambda: t((2, 3)) @ t((4, 5)), ValueError, ["matmul", "(2, 3)", "(4, 5)", "(3)", "(4)"]),
    ("matmul_1d", lambda: t(3) @ t(4), ValueError, ["matmul", "(3,)", "(4,)"]),
    ("matmul_vec_mat", lambda: t(3) @ t((4, 2)), ValueError, ["matmul", "(3,)", "(4, 2)"]),
    ("matmul_batch", lambda: t((2, 3, 4)) @ t((5, 4, 2)), ValueError, ["matmul", "(2, 3, 4)", "(5, 4, 2)", "batch"]),
    ("matmul_scalar", lambda: t(()) @ t(3), ValueError, ["matmul", "()", "(3,)"]),
    ("rmatmul_ndarray", lambda: np.ones((2, 5)) @ t((3, 2)), ValueError, ["matmul", "(2, 5)", "(3, 2)"]),
    ("int_negative_power", lambda: Tensor(np.array([1, 2])) ** -1, ValueError, ["pow", "int64", "astype"]),
    ("where_broadcast", lambda: F.where(np.ones(3, bool), t(3), t(4)), ValueError,
     ["where", "condition (3,)", "a (3,)", "b (4,)", "broadcast"]),
    ("maximum_broadcast", lambda: F.maximum(t((2, 3)), t(2)), ValueError, ["maximum", "(2, 3)", "(2,)", "broadcast"]),
    # backward
    ("backward_non_scalar", lambda: (t((2, 3), True) * 2).backward(), RuntimeError,
     ["backward", "scalar", "(2, 3)", "grad="]),
    ("backward_grad_shape", lambda: (t((2, 3), True) * 2).backward(np.ones(3)), ValueError,
     ["backward", "(3,)", "(2, 3)"]),
    ("backward_without_graph", lambda: (t(2) * 2).sum().backward(), RuntimeError, ["backward", "requires_grad=True"]),
    ("backward_under_no_grad", lambda: _no_grad_loss().backward(), RuntimeError, ["does not require grad", "no_grad"]),
    ("backward_twice", _backward_twice, RuntimeError, ["second time", "retain_graph=True"]),
    ("retain_grad_constant", lambda: t(2).retain_grad(), RuntimeError, ["retain_grad", "does not require grad"]),
    # requires_grad on non-floating data
    ("requires_grad_int", lambda: Tensor(np.array([1, 2]), requires_grad=True), TypeError,
     ["floating-point", "int64", "astype"]),
    ("requires_grad_int_list_ok_but_int_array_not", lambda: Tensor(np.arange(3), requires_grad=True), TypeError,
     ["int64"]),
    ("requires_grad_bool", lambda: Tensor(np.array([True]), requires_grad=True), TypeError, ["bool"]),
    ("requires_grad_string", lambda: Tensor(np.array(["a", "b"]), requires_grad=True), TypeError,
     ["<U1", "numbers"]),
    ("string_tensor", lambda: Tensor("abc"), TypeError, ["<U3", "str"]),
    ("object_tensor", lambda: Tensor([{}, 1]), TypeError, ["object"]),
    ("requires_grad_method_int", lambda: Tensor(np.array([1])).requires_grad_(), TypeError, ["int64"]),
    ("default_dtype_int", lambda: minigrad.set_default_dtype(np.int32), TypeError, ["set_default_dtype", "int32"]),
    # cross_entropy labels
    ("ce_label_too_big", lambda: F.cross_entropy(t((3, 4)), [0, 4, 1]), ValueError,
     ["cross_entropy", "label 4", "4 classes", "0 <= label < 4"]),
    ("ce_label_negative", lambda: F.cross_entropy(t((2, 4)), np.array([-1, 0])), ValueError,
     ["cross_entropy", "label -1"]),
    ("ce_labels_too_few", lambda: F.cross_entropy(t((3, 4)), [0, 1]), ValueError,
     ["cross_entropy", "expected 3 labels", "(2,)"]),
    ("ce_labels_2d", lambda: F.cross_entropy(t((3, 4)), np.zeros((3, 1), int)), ValueError,
     ["cross_entropy", "(3, 1)"]),
    ("ce_float_labels", lambda: F.cross_entropy(t((2, 4)), np.array([0.0, 1.0])), TypeError,
     ["cross_entropy", "integers", "float64"]),
    ("ce_logits_1d", lambda: F.cross_entropy(t(4), [1]), ValueError, ["cross_entropy", "(N, C)", "(4,)"]),
    ("ce_reduction", lambda: F.cross_entropy(t((2, 2)), [0, 1], reduction="avg"), ValueError,
     ["cross_entropy", "'avg'", "'mean'"]),
    # other functions
    ("mse_shapes", lambda: F.mse_loss(t((3, 1)), t(3)), ValueError, ["mse_loss", "(3, 1)", "(3,)"]),
    ("mse_reduction", lambda: F.mse_loss(t(3), t(3), reduction="avg"), ValueError, ["mse_loss", "'avg'"]),
    ("bce_shapes", lambda: F.binary_cross_entropy_with_logits(t(3), np.ones(4)), ValueError,
     ["binary_cross_entropy_with_logits", "(3,)", "(4,)"]),
    ("bce_reduction", lambda: F.binary_cross_entropy_with_logits(t(3), np.ones(3), reduction="x"), ValueError,
     ["binary_cross_entropy_with_logits", "'x'"]),
    ("dropout_p", lambda: F.dropout(t(3), 1.5), ValueError, ["dropout", "1.5"]),
    ("dropout_module_p", lambda: nn.Dropout(-0.1), ValueError, ["Dropout", "-0.1"]),
    ("concatenate_shapes", lambda: F.concatenate([t((2, 3)), t((2, 4))], axis=0), ValueError,
     ["concatenate", "(2, 3)", "(2, 4)"]),
    ("stack_shapes", lambda: F.stack([t(3), t(4)]), ValueError, ["stack", "(3,)", "(4,)"]),
    ("linear_features", lambda: F.linear(t((2, 3)), t((4, 5))), ValueError, ["linear", "3", "5", "(4, 5)"]),
    ("linear_module_features", lambda: nn.Linear(3, 2, rng=0)(t((5, 4))), ValueError, ["linear", "(5, 4)"]),
    # tensor methods
    ("reshape", lambda: t((2, 3)).reshape(4, 2), ValueError, ["reshape", "(2, 3)", "(4, 2)"]),
    ("transpose_axes", lambda: t((2, 3)).transpose(0, 0), ValueError, ["transpose", "(0, 0)", "(2, 3)"]),
    ("transpose_out_of_range", lambda: t((2, 3)).transpose(0, 3), ValueError, ["transpose", "(0, 3)"]),
    ("sum_axis", lambda: t((2, 3)).sum(axis=2), ValueError, ["sum", "axis 2", "2 dimension"]),
    ("mean_axis", lambda: t((2, 3)).mean(axis=-3), ValueError, ["mean", "axis -3"]),
    ("max_empty", lambda: t((0, 3)).max(), ValueError, ["max", "empty", "(0, 3)"]),
    ("getitem", lambda: t((2, 3))[5], IndexError, ["getitem", "(2, 3)", "5"]),
    ("item", lambda: t(3).item(), ValueError, ["item", "(3,)"]),
    ("clip_no_bounds", lambda: t(3).clip(), ValueError, ["clip", "min", "max"]),
    ("clip_min_above_max", lambda: t(3).clip(2.0, 1.0), ValueError, ["clip", "2.0", "1.0"]),
    # modules
    ("linear_size", lambda: nn.Linear(0, 3), ValueError, ["Linear", "in_features", "0"]),
    ("linear_rng", lambda: nn.Linear(2, 3, rng="seed"), TypeError, ["rng", "str"]),
    ("mlp_sizes", lambda: nn.MLP([3]), ValueError, ["MLP", "[3]"]),
    ("mlp_activation", lambda: nn.MLP([3, 2], activation="gelu"), ValueError, ["MLP", "'gelu'", "relu"]),
    ("sequential_non_module", lambda: nn.Sequential(nn.ReLU(), lambda x: x), TypeError, ["Sequential", "argument 1"]),
]


def _no_grad_loss():
    x = t(2, True)
    with minigrad.no_grad():
        return (x * x).sum()


@pytest.mark.parametrize("thunk, exc, fragments", [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT])
def test_bad_input_raises_a_clear_error(thunk, exc, fragments):
    with pytest.raises(exc) as info:
        thunk()
    msg = str(info.value)
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in message: {msg}"


def test_default_dtype_unchanged_after_rejection():
    before = minigrad.get_default_dtype()
    with pytest.raises(TypeError):
        minigrad.set_default_dtype("int64")
    assert minigrad.get_default_dtype() == before


# ----------------------------------------------------------- load_state_dict
def _model_and_snapshot():
    model = nn.MLP([3, 4, 2], rng=0)
    return model, model.state_dict()


def _assert_unchanged(model, snapshot):
    now = model.state_dict()
    assert list(now) == list(snapshot)
    for k in snapshot:
        np.testing.assert_array_equal(now[k], snapshot[k])


def _sd(**changes):
    sd = nn.MLP([3, 4, 2], rng=1).state_dict()  # different values, so any partial load would show
    for k, v in changes.items():
        key = k.replace("__", ".")
        if v is None:
            del sd[key]
        else:
            sd[key] = v
    return sd


LOAD_ERRORS = [
    ("missing", _sd(**{"2__bias": None}), ["Missing key(s)", "'2.bias'"]),
    ("extra", _sd(**{"2__scale": np.ones(2)}), ["Unexpected key(s)", "'2.scale'"]),
    ("misshaped", _sd(**{"0__weight": np.ones((3, 4))}), ["size mismatch for 0.weight", "(3, 4)", "(4, 3)"]),
    ("misshaped_bias", _sd(**{"2__bias": np.ones((1, 2))}), ["size mismatch for 2.bias", "(1, 2)", "(2,)"]),
    ("strings", _sd(**{"0__bias": np.array(["a", "b", "c", "d"])}), ["0.bias", "<U1"]),
]


@pytest.mark.parametrize("state, fragments", [c[1:] for c in LOAD_ERRORS], ids=[c[0] for c in LOAD_ERRORS])
def test_load_state_dict_rejects_bad_dicts_and_leaves_the_module_unchanged(state, fragments):
    model, snapshot = _model_and_snapshot()
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    msg = str(info.value)
    assert "Error(s) in loading state_dict for MLP" in msg
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in message: {msg}"
    _assert_unchanged(model, snapshot)


def test_load_state_dict_reports_every_problem_at_once():
    model, snapshot = _model_and_snapshot()
    state = _sd(**{"2__bias": None, "0__weight": np.ones((1, 1)), "x": np.ones(1)})
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    msg = str(info.value)
    assert all(s in msg for s in ("Missing", "Unexpected", "size mismatch"))
    _assert_unchanged(model, snapshot)


def test_non_strict_load_still_rejects_wrong_shapes_without_changing_anything():
    model, snapshot = _model_and_snapshot()
    with pytest.raises(RuntimeError, match=re.escape("size mismatch for 0.weight")):
        model.load_state_dict(_sd(**{"0__weight": np.ones((3, 4)), "2__bias": None}), strict=False)
    _assert_unchanged(model, snapshot)


def test_rejected_operations_leave_grads_untouched():
    x = Tensor(np.ones(3), requires_grad=True)
    (x * 2).sum().backward()
    before = x.grad.copy()
    with pytest.raises(ValueError):
        (x * 2).backward(np.ones(4))
    np.testing.assert_array_equal(x.grad, before)
