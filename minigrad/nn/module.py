"""``Module``: the base class of layers and models (torch's ``nn.Module`` in miniature).

Assigning a :class:`Parameter` or a ``Module`` to an attribute registers it, so
``parameters()`` finds every weight of a model without being told where they are.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ..tensor import Tensor

__all__ = ["Module", "Parameter"]


class Parameter(Tensor):
    """A tensor that is a learnable parameter of a module: ``requires_grad=True`` by default."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class for all layers; subclasses define ``forward``.

    Example
    -------
    >>> class Affine(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = Parameter(np.ones(3))
    ...     def forward(self, x):
    ...         return x * self.w
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name, array):
        """Register state that is saved in ``state_dict`` but is not trained (e.g. running means)."""
        self._buffers[name] = np.asarray(array)
        object.__setattr__(self, name, self._buffers[name])

    def _set_buffer(self, name, array):
        self._buffers[name] = array
        object.__setattr__(self, name, array)

    def forward(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} has no forward(): a Module subclass must define forward(self, ...)")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------ traversal
    def named_modules(self, prefix=""):
        """Yield ``(name, module)`` for this module and every descendant, depth first."""
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def children(self):
        return iter(self._modules.values())

    def named_parameters(self, prefix=""):
        """Yield ``(dotted_name, Parameter)`` pairs, each parameter once."""
        seen = set()
        for mod_name, mod in self.named_modules(prefix):
            for name, p in mod._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self):
        """Every learnable parameter of the module and its sub-modules, for an optimizer."""
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self):
        for mod_name, mod in self.named_modules():
            for name, b in mod._buffers.items():
                yield (f"{mod_name}.{name}" if mod_name else name), mod, name, b

    def zero_grad(self, set_to_none=True):
        """Forget every parameter's gradient (``None``, or zeros in place if ``set_to_none=False``)."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad[...] = 0

    def train(self, mode=True):
        """Switch this module and its children to training mode (dropout active, batch statistics)."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """Switch to evaluation mode, as ``train(False)``."""
        return self.train(False)

    # ---------------------------------------------------------- state dicts
    def state_dict(self):
        """An ordered dict ``name -> numpy array`` (copies) of parameters and buffers."""
        out = OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())
        for name, _, _, b in self.named_buffers():
            out[name] = np.array(b, copy=True)
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays from ``state_dict`` into the parameters and buffers, in place.

        Everything is checked first (missing or unexpected keys when ``strict``,
        shapes always), so a rejected dict leaves the module unchanged.
        """
        params = OrderedDict(self.named_parameters())
        buffers = OrderedDict((name, (mod, bname, b)) for name, mod, bname, b in self.named_buffers())
        expected = list(params) + list(buffers)
        missing = [k for k in expected if k not in state_dict]
        unexpected = [k for k in state_dict if k not in params and k not in buffers]
        problems = []
        if strict and missing:
            problems.append("Missing key(s) in state_dict: " + ", ".join(repr(k) for k in missing) + ".")
        if strict and unexpected:
            problems.append("Unexpected key(s) in state_dict: " + ", ".join(repr(k) for k in unexpected) + ".")
        arrays = {}
        for k in expected:
            if k not in state_dict:
                continue
            value = state_dict[k]
            arr = np.asarray(value.data if isinstance(value, Tensor) else value)
            current = params[k].data if k in params else buffers[k][2]
            if arr.shape != np.shape(current):
                problems.append(
                    f"size mismatch for {k}: copying a param with shape {arr.shape} from checkpoint, "
                    f"the shape in current model is {np.shape(current)}."
                )
            elif arr.dtype.kind not in "biuf":
                problems.append(f"dtype of {k}: expected numbers, got {arr.dtype}.")
            arrays[k] = arr
        if problems:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(problems))
        for k, arr in arrays.items():
            if k in params:
                np.copyto(params[k].data, arr, casting="unsafe")
            else:
                mod, bname, b = buffers[k]
                if isinstance(b, np.ndarray) and b.ndim:
                    np.copyto(b, arr, casting="unsafe")
                else:
                    mod._set_buffer(bname, np.array(arr, dtype=np.asarray(b).dtype))
        return {"missing_keys": missing, "unexpected_keys": unexpected}

    # ---------------------------------------------------------------- repr
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        if self._modules:
            for name, m in self._modules.items():
                child = repr(m).replace("\n", "\n  ")
                lines.append(f"  ({name}): {child}")
            return lines[0] + "\n" + "\n".join(lines[1:]) + "\n)"
        return lines[0] + ")"
