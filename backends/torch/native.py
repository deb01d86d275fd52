"""The ``native:torch`` reference lane: the workload as plain, idiomatic PyTorch.

The model becomes a ``torch.nn.Module`` of standard modules (``nn.Linear``, ``nn.Conv2d`` in
NCHW, ``nn.MaxPool2d``, ``nn.Dropout``), trained with a ``torch.optim`` optimizer and
``loss.backward()``: what a PyTorch user would write by hand. It starts from the benchbench
model's weights (converted to PyTorch's layouts) and runs inside benchbench's fit loop, so
batching and timing are identical to the adapter's and only the step differs.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from benchbench import lanes
from benchbench import layers as L
from benchbench.errors import LaneUnsupported

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "softmax": None,
    "linear": None,
}


class _Graph(nn.Module):
    """The benchbench model's graph replayed with torch modules (channels-first inside)."""

    def __init__(self, model, modules: dict):
        super().__init__()
        self.nodes = [(modules[layer.name], ins, out) for layer, ins, out in model._nodes]
        self.blocks = nn.ModuleList(m for m, _, _ in self.nodes if isinstance(m, nn.Module))
        self.input_id, self.output_id = model.input.id, model.output.id

    def forward(self, x):
        values = {self.input_id: x}
        for module, ins, out in self.nodes:
            args = [values[i] for i in ins]
            values[out] = module(*args)
        return values[self.output_id]


def _act(name: str) -> list[nn.Module]:
    cls = _ACTIVATIONS[name]
    return [cls()] if cls else []


def _module(layer, input_shape, weights) -> nn.Module | object:
    """A torch module for one layer, loaded with its weights (Keras layout in `weights`)."""
    if isinstance(layer, L.Dense):
        linear = nn.Linear(input_shape[0], layer.units, bias=layer.use_bias)
        linear.weight.data = torch.from_numpy(weights[0].T.copy())
        if layer.use_bias:
            linear.bias.data = torch.from_numpy(weights[1].copy())
        return nn.Sequential(linear, *_act(layer.activation))
    if isinstance(layer, L.Conv2D):
        if layer.padding == "same" and any(k % 2 == 0 for k in layer.kernel_size):
            raise LaneUnsupported("native:torch: even 'same' kernels pad asymmetrically")
        pad = [k // 2 for k in layer.kernel_size] if layer.padding == "same" else 0
        conv = nn.Conv2d(
            input_shape[-1],
            layer.filters,
            layer.kernel_size,
            layer.strides,
            padding=pad,
            bias=layer.use_bias,
        )
        conv.weight.data = torch.from_numpy(weights[0].transpose(3, 2, 0, 1).copy())
        if layer.use_bias:
            conv.bias.data = torch.from_numpy(weights[1].copy())
        return nn.Sequential(conv, *_act(layer.activation))
    if isinstance(layer, L.MaxPooling2D) and layer.padding == "valid":
        return nn.MaxPool2d(layer.pool_size, layer.strides)
    if isinstance(layer, L.Flatten):
        return nn.Flatten()
    if isinstance(layer, L.Dropout):
        return nn.Dropout(layer.rate)
    if isinstance(layer, L.Activation):
        return nn.Sequential(*_act(layer.activation))
    if isinstance(layer, L.Add):
        return _Sum()
    raise LaneUnsupported(
        f"native:torch has no hand-written form of {type(layer).__name__} "
        f"({layer.padding if hasattr(layer, 'padding') else ''})"
    )


class _Sum(nn.Module):
    def forward(self, *xs):
        return torch.stack(xs).sum(0)


def _flatten_permutation(shape) -> np.ndarray:
    """Rows of a Dense kernel after Flatten, reordered from Keras's HWC to torch's CHW order."""
    return np.arange(math.prod(shape)).reshape(shape).transpose(2, 0, 1).reshape(-1)


def build_module(model) -> nn.Module:
    """The benchbench `model` as a torch module with the same (current) weights."""
    shapes = model._input_shapes()
    weights = model.get_weights()
    modules, after_flatten = {}, None
    for layer in model.layers:
        w = weights[model._slices[layer]]
        if isinstance(layer, L.Dense) and after_flatten is not None and len(after_flatten) == 3:
            w = [w[0][_flatten_permutation(after_flatten)], *w[1:]]
        modules[layer.name] = _module(layer, shapes[layer], w)
        after_flatten = shapes[layer] if isinstance(layer, L.Flatten) else None
    return _Graph(model, modules)


def make_optimizer(config: dict, params):
    """The torch.optim equivalent of a benchbench optimizer config (Keras semantics)."""
    name, lr = config["name"], config["learning_rate"]
    if name == "sgd":
        opt = torch.optim.SGD(
            params, lr=lr, momentum=config["momentum"], nesterov=config["nesterov"]
        )
    elif name == "rmsprop":
        opt = torch.optim.RMSprop(params, lr=lr, alpha=config["rho"], eps=config["epsilon"])
    elif name == "adadelta":
        opt = torch.optim.Adadelta(params, lr=lr, rho=config["rho"], eps=config["epsilon"])
    elif name == "adagrad":
        opt = torch.optim.Adagrad(params, lr=lr, eps=config["epsilon"])
    elif name == "adam":
        opt = torch.optim.Adam(
            params, lr=lr, betas=(config["beta_1"], config["beta_2"]), eps=config["epsilon"]
        )
    else:
        raise LaneUnsupported(f"native:torch: no torch.optim form of optimizer {name!r}")
    decay = config.get("decay", 0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1.0 / (1.0 + decay * t))
    return opt, scheduler if decay else None


def _loss(model):
    sparse = lanes.native_loss("native:torch", model)

    def loss_and_accuracy(out, y):
        target = y.long().reshape(-1) if sparse else y
        labels = target if sparse else y.argmax(1)
        loss = nn.functional.cross_entropy(out, target)
        return loss, (out.argmax(1) == labels).float().mean()

    return loss_and_accuracy


def attach(model, backend) -> None:
    """Replaces a compiled benchbench model's steps with native PyTorch ones."""
    device = backend.torch_device
    module = build_module(model).to(device)
    opt, scheduler = make_optimizer(model.optimizer.config(), module.parameters())
    loss_and_accuracy = _loss(model)
    channels_first = len(model.input.shape) == 3

    def batch(array):
        x = torch.from_numpy(array).to(device)
        return x.permute(0, 3, 1, 2).contiguous() if channels_first else x

    def train_step(x, y):
        module.train()
        opt.zero_grad(set_to_none=True)
        loss, accuracy = loss_and_accuracy(module(batch(x)), torch.from_numpy(y).to(device))
        loss.backward()
        opt.step()
        if scheduler:
            scheduler.step()
        return loss.item(), accuracy.item()

    @torch.no_grad()
    def test_step(x, y):
        module.eval()
        loss, accuracy = loss_and_accuracy(module(batch(x)), torch.from_numpy(y).to(device))
        return loss.item(), accuracy.item()

    @torch.no_grad()
    def predict_step(x):
        module.eval()
        return torch.softmax(module(batch(x)), dim=1).cpu().numpy()

    model._train_step, model._test_step, model._predict_step = train_step, test_step, predict_step
