"""The ``native:torch`` reference lane: the workload as PyTorch an expert writes for speed.

The model becomes a ``torch.nn.Module`` of standard modules (``nn.Linear``, ``nn.Conv2d``,
``nn.MaxPool2d``, ``nn.Dropout``; ``nn.Embedding``, ``nn.LSTM`` and ``nn.GRU`` for sequence
models, see `backends.torch.native_rnn`), trained with a ``torch.optim`` optimizer and
``loss.backward()``. What PyTorch's performance guidance offers on CPU is used: convolutions run
channels-last (the NHWC batch is viewed as NCHW without a copy, and the module's weights are in
``torch.channels_last``), optimizers use their fused kernels (``fused=True``: SGD, Adagrad, Adam)
or the multi-tensor ``foreach`` ones (RMSprop, Adadelta), the module switches to ``train()``
only when it was in ``eval()`` (once per epoch, after validation), and loss and accuracy come
back in one host read per step. It starts from the benchbench model's weights (converted to
PyTorch's layouts) and runs inside benchbench's fit loop, so batching and timing are identical
to the adapter's and only the step differs.

Where ``torch.optim`` computes another rule than Keras 2's, the lane keeps torch's fast kernel and
`deviations` names the difference (the report labels it).
"""

from __future__ import annotations

import torch
from torch import nn

from backends.torch import native_rnn
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


def _dense(layer, input_shape, weights, activation: str | None = None) -> nn.Module:
    linear = nn.Linear(input_shape[-1], layer.units, bias=layer.use_bias)  # on the last axis
    linear.weight.data = torch.from_numpy(weights[0].T.copy())
    if layer.use_bias:
        linear.bias.data = torch.from_numpy(weights[1].copy())
    return nn.Sequential(linear, *_act(activation or layer.activation))


def _module(layer, input_shape, weights, last: bool = False) -> nn.Module | object:
    """A torch module for one layer, loaded with its weights (Keras layout in `weights`); the
    `last` layer's activation is left out (the loss takes logits)."""
    if isinstance(layer, L.Dense):
        return _dense(layer, input_shape, weights, "linear" if last else None)
    output = "linear" if last else None
    sequence = native_rnn.module(
        layer, input_shape, weights, lambda *a: _dense(*a, activation=output)
    )
    if sequence is not None:
        return sequence
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
        return _FlattenChannelsLast() if len(input_shape) == 3 else nn.Flatten()
    if isinstance(layer, L.Dropout):
        return nn.Dropout(layer.rate)
    if isinstance(layer, L.Activation):
        return nn.Sequential(*_act("linear" if last else layer.activation))
    if isinstance(layer, L.Add):
        return _Sum()
    raise LaneUnsupported(
        f"native:torch has no hand-written form of {type(layer).__name__} "
        f"({layer.padding if hasattr(layer, 'padding') else ''})"
    )


class _Sum(nn.Module):
    def forward(self, *xs):
        return torch.stack(xs).sum(0)


class _FlattenChannelsLast(nn.Module):
    """Flattens an image batch in Keras's (H, W, C) order: on channels-last memory the permuted
    view is contiguous, so this is free, and Dense kernels keep Keras's row order."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1)


def build_module(model) -> nn.Module:
    """The benchbench `model` as a torch module with the same (current) weights."""
    shapes = model._input_shapes()
    weights = model.get_weights()
    last = model._nodes[-1][0]
    modules = {
        layer.name: _module(layer, shapes[layer], weights[model._slices[layer]], layer is last)
        for layer in model.layers
    }
    return _Graph(model, modules)


_OPTIMIZER_NAMES = ("sgd", "rmsprop", "adadelta", "adagrad", "adam")


def _optimizer(config: dict, params, fast: dict):
    name, lr = config["name"], config["learning_rate"]
    if name == "sgd":
        return torch.optim.SGD(
            params, lr=lr, momentum=config["momentum"], nesterov=config["nesterov"], **fast
        )
    if name == "rmsprop":
        return torch.optim.RMSprop(
            params, lr=lr, alpha=config["rho"], eps=config["epsilon"], foreach=True
        )
    if name == "adadelta":
        return torch.optim.Adadelta(
            params, lr=lr, rho=config["rho"], eps=config["epsilon"], foreach=True
        )
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, eps=config["epsilon"], **fast)
    if name == "adam":
        betas = (config["beta_1"], config["beta_2"])
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=config["epsilon"], **fast)
    raise LaneUnsupported(f"native:torch: no torch.optim form of optimizer {name!r}")


def make_optimizer(config: dict, params, device: torch.device):
    """The torch.optim equivalent of a benchbench optimizer config, on its fastest kernel, and
    the ``decay`` schedule (None without decay)."""
    lanes.native_rule("native:torch", dict.fromkeys(_OPTIMIZER_NAMES), config)
    # fused kernels exist for CPU and CUDA tensors; elsewhere the multi-tensor path
    fast = {"fused": True} if device.type in ("cpu", "cuda") else {"foreach": True}
    opt = _optimizer(config, list(params), fast)
    decay = config.get("decay", 0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1.0 / (1.0 + decay * t))
    return opt, scheduler if decay else None


def deviations(config: dict) -> list[str]:
    """Where torch.optim's rule for `config` is not Keras 2's (the lane runs torch's anyway)."""
    found = []
    if config["name"] == "adam":
        found.append(
            "torch.optim.Adam adds epsilon after the bias correction (Keras 2: epsilon "
            "* sqrt(1 - beta_2**t) in torch's terms)"
        )
    if config["name"] == "sgd" and config["momentum"] and config.get("decay"):
        found.append(
            "torch.optim.SGD keeps the velocity in gradient units, so a decaying learning rate "
            "also rescales past steps (Keras 2 keeps each step's own rate)"
        )
    return found


def _loss(model):
    kind = lanes.native_loss("native:torch", model)

    def loss_and_accuracy(out, y):
        if kind == "binary":
            loss = nn.functional.binary_cross_entropy_with_logits(out, y)
            return loss, ((out > 0) == (y > 0.5)).float().mean()
        logits = out.reshape(-1, out.shape[-1])  # one row per sample, or per output step
        if kind == "sparse":
            labels = y.long().reshape(-1)
            loss = nn.functional.cross_entropy(logits, labels)
        else:
            target = y.reshape(-1, out.shape[-1])
            labels = target.argmax(1)
            loss = nn.functional.cross_entropy(logits, target)
        return loss, (logits.argmax(1) == labels).float().mean()

    return loss_and_accuracy


def _output(model):
    """The last layer's activation, which training leaves to the loss."""
    if model.loss_name == "binary_crossentropy":
        return torch.sigmoid
    return lambda out: torch.softmax(out, dim=-1)


def attach(model, backend) -> list[str]:
    """Replaces a compiled benchbench model's steps with native PyTorch ones; returns the
    optimizer's `deviations` from Keras 2's rule."""
    device = backend.torch_device
    images = len(model.input.shape) == 3
    module = build_module(model).to(device)
    if images:
        module = module.to(memory_format=torch.channels_last)
    config = model.optimizer.config()
    trained = (p for p in module.parameters() if p.requires_grad)  # not an LSTM's zero b_hh
    opt, scheduler = make_optimizer(config, trained, device)
    loss_and_accuracy = _loss(model)
    output = _output(model)

    def batch(array):
        x = torch.from_numpy(array).to(device, non_blocking=True)
        # NHWC in memory viewed as NCHW is exactly torch's channels_last layout: no copy
        return x.permute(0, 3, 1, 2) if images else x

    def train_step(x, y):
        if not module.training:
            module.train()
        opt.zero_grad(set_to_none=True)
        loss, accuracy = loss_and_accuracy(module(batch(x)), torch.from_numpy(y).to(device))
        loss.backward()
        opt.step()
        if scheduler:
            scheduler.step()
        loss_value, accuracy_value = torch.stack([loss.detach(), accuracy]).tolist()
        return loss_value, accuracy_value

    @torch.no_grad()
    def test_step(x, y):
        if module.training:
            module.eval()
        loss, accuracy = loss_and_accuracy(module(batch(x)), torch.from_numpy(y).to(device))
        loss_value, accuracy_value = torch.stack([loss, accuracy]).tolist()
        return loss_value, accuracy_value

    @torch.no_grad()
    def predict_step(x):
        if module.training:
            module.eval()
        return output(module(batch(x))).cpu().numpy()

    model._train_step, model._test_step, model._predict_step = train_step, test_step, predict_step
    return deviations(config)
