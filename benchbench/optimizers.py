"""Optimizers with Keras 2 semantics, every argument explicit.

An optimizer is a frozen description plus one pure update rule, written once with Python
arithmetic so that it runs unchanged on NumPy arrays, torch tensors, TensorFlow tensors, JAX
arrays and PyTensor variables. Adapters own the slot storage and the step counter; they call
`Optimizer.update` inside their compiled step.

One precision on every backend: the step counter ``t`` is a Python int kept on the host (it
never stops counting, as a float32 counter does at 2**24), and everything a rule derives from it
(the decayed learning rate, Adam's bias corrections) is computed by `Optimizer.scalars` on the
host in float64, then rounded to float32 once where it meets the float32 weights: adapters with
a compiled step feed these scalars in as a float32 input each step. The other constants
(``rho``, ``1 - rho``, ``epsilon``...) are Python floats computed in float64 and rounded once,
as NumPy's weak scalars are. The first update of every rule therefore agrees across backends to
float32 rounding (tested to 1e-6 relative); Keras 2 itself computed these constants in float32
(``1. - K.pow(beta_2, t)`` is 1.3e-5 off at t = 1).

Update rules (``t`` counts completed steps, starting at 0; ``lr`` is decayed as
``lr / (1 + decay * t)`` when ``decay`` is set):

- SGD: ``v = momentum * v - lr * g``; ``p += v`` (Nesterov: ``p += momentum * v - lr * g``).
- RMSprop: ``a = rho * a + (1 - rho) * g**2``; ``p -= lr * g / (sqrt(a) + epsilon)``.
- Adagrad: ``a += g**2``; ``p -= lr * g / (sqrt(a) + epsilon)``.
- Adadelta: ``a = rho * a + (1 - rho) * g**2``; ``u = g * sqrt(d + epsilon) / sqrt(a + epsilon)``;
  ``p -= lr * u``; ``d = rho * d + (1 - rho) * u**2``.
- Adam: ``m = b1 * m + (1 - b1) * g``; ``v = b2 * v + (1 - b2) * g**2``;
  ``p -= lr * sqrt(1 - b2**(t+1)) / (1 - b1**(t+1)) * m / (sqrt(v) + epsilon)``; with
  ``amsgrad``, ``vhat = max(vhat, v)`` replaces ``v`` in the step.

Every optimizer takes Keras 2's gradient clipping, applied before the rule: ``clipnorm`` scales
all gradients by ``clipnorm / max(norm, clipnorm)``, ``norm`` being their global L2 norm (Keras
2.3.1's ``get_gradients``), then ``clipvalue`` clips each element to ``[-clipvalue, clipvalue]``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any, ClassVar

from benchbench.errors import UnknownNameError

EPSILON = 1e-7


@dataclasses.dataclass(frozen=True)
class RuleOps:
    """The framework functions update rules and clipping need beyond Python arithmetic; each
    adapter makes one.

    Attributes:
        sqrt: elementwise square root.
        maximum: elementwise maximum of two tensors of one shape.
        sum: the sum of all elements, a scalar.
        clip: ``clip(x, lo, hi)`` with float bounds (``hi`` may be ``inf``).
    """

    sqrt: Callable[[Any], Any]
    maximum: Callable[[Any, Any], Any]
    sum: Callable[[Any], Any]
    clip: Callable[[Any, float, float], Any]


@dataclasses.dataclass(frozen=True)
class Optimizer:
    """Base class. Subclasses define fields, `slot_names` and `apply`."""

    learning_rate: float = 0.01
    decay: float = 0.0
    clipnorm: float = 0.0
    clipvalue: float = 0.0

    slot_names: ClassVar[tuple[str, ...]] = ()
    name: ClassVar[str] = ""

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool):
                continue
            if not isinstance(value, int | float) or value < 0:
                raise ValueError(
                    f"{type(self).__name__}({field.name}={value!r}): expected a number >= 0"
                )

    def config(self) -> dict:
        return {"name": self.name, **dataclasses.asdict(self)}

    def lr_at(self, t: int) -> float:
        """The learning rate of step `t` (steps done so far), with Keras 2's ``decay``."""
        if self.decay:
            return self.learning_rate / (1.0 + self.decay * t)
        return self.learning_rate

    def scalars(self, t: int) -> tuple[float, ...]:
        """The rule's per-step scalars at step `t` (steps done so far, a Python int), as float64
        Python floats: ``(lr,)``, and for Adam ``(lr_t,)`` with the bias corrections folded in.
        Every adapter computes them with this method, on the host."""
        if not isinstance(t, int) or isinstance(t, bool) or t < 0:
            raise TypeError(f"{type(self).__name__}.scalars: t must be an int >= 0, got {t!r}")
        return (self.lr_at(t),)

    def clip_gradients(self, grads: list[Any], ops: RuleOps) -> list[Any]:
        """`grads` after ``clipnorm`` and ``clipvalue`` (the same list if neither is set)."""
        grads = list(grads)
        if self.clipnorm > 0:
            norm = ops.sqrt(sum(ops.sum(g * g) for g in grads))
            # exactly 1 below the limit: clip(norm, c, inf) is then c itself
            scale = self.clipnorm / ops.clip(norm, self.clipnorm, math.inf)
            grads = [g * scale for g in grads]
        if self.clipvalue > 0:
            grads = [ops.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def update(
        self, p: Any, g: Any, slots: list[Any], scalars, ops: RuleOps
    ) -> tuple[Any, list[Any]]:
        """Returns the new parameter value and new slot values.

        Args:
            p: the parameter's current value; g: its (clipped) gradient; slots: the current slot
                values in `slot_names` order.
            scalars: this step's `scalars`, as Python floats or as float32 scalar tensors of
                the backend (a compiled step takes them as an input).
            ops: the framework's `RuleOps`.
        """
        return self.apply(p, g, slots, scalars[0], ops)

    def initial_slots(self) -> tuple[float, ...]:
        """The value each slot starts at, in `slot_names` order (zeros unless a rule says)."""
        return (0.0,) * len(self.slot_names)

    def apply(self, p, g, slots, lr, ops):
        """The rule for one weight; ``lr`` is this step's first scalar."""
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class SGD(Optimizer):
    learning_rate: float = 0.01
    momentum: float = 0.0
    nesterov: bool = False
    decay: float = 0.0
    name: ClassVar[str] = "sgd"

    @property
    def slot_names(self):  # type: ignore[override]
        return ("velocity",) if self.momentum else ()

    def apply(self, p, g, slots, lr, ops):
        if not self.momentum:
            return p - lr * g, []
        v = self.momentum * slots[0] - lr * g
        if self.nesterov:
            return p + self.momentum * v - lr * g, [v]
        return p + v, [v]


@dataclasses.dataclass(frozen=True)
class RMSprop(Optimizer):
    learning_rate: float = 0.001
    rho: float = 0.9
    epsilon: float = EPSILON
    decay: float = 0.0
    slot_names: ClassVar[tuple[str, ...]] = ("accumulator",)
    name: ClassVar[str] = "rmsprop"

    def apply(self, p, g, slots, lr, ops):
        a = self.rho * slots[0] + (1.0 - self.rho) * (g * g)
        return p - lr * g / (ops.sqrt(a) + self.epsilon), [a]


@dataclasses.dataclass(frozen=True)
class Adagrad(Optimizer):
    learning_rate: float = 0.01
    epsilon: float = EPSILON
    decay: float = 0.0
    initial_accumulator_value: float = 0.0  # Keras 2.3.1's accumulators start at zero
    slot_names: ClassVar[tuple[str, ...]] = ("accumulator",)
    name: ClassVar[str] = "adagrad"

    def initial_slots(self):
        return (self.initial_accumulator_value,)

    def apply(self, p, g, slots, lr, ops):
        a = slots[0] + g * g
        return p - lr * g / (ops.sqrt(a) + self.epsilon), [a]


@dataclasses.dataclass(frozen=True)
class Adadelta(Optimizer):
    learning_rate: float = 1.0
    rho: float = 0.95
    epsilon: float = EPSILON
    decay: float = 0.0
    slot_names: ClassVar[tuple[str, ...]] = ("accumulator", "delta_accumulator")
    name: ClassVar[str] = "adadelta"

    def apply(self, p, g, slots, lr, ops):
        a = self.rho * slots[0] + (1.0 - self.rho) * (g * g)
        u = g * ops.sqrt(slots[1] + self.epsilon) / ops.sqrt(a + self.epsilon)
        d = self.rho * slots[1] + (1.0 - self.rho) * (u * u)
        return p - lr * u, [a, d]


@dataclasses.dataclass(frozen=True)
class Adam(Optimizer):
    learning_rate: float = 0.001
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = EPSILON
    decay: float = 0.0
    amsgrad: bool = False
    name: ClassVar[str] = "adam"

    @property
    def slot_names(self):  # type: ignore[override]
        return ("m", "v", "vhat") if self.amsgrad else ("m", "v")

    def __post_init__(self):
        super().__post_init__()
        for beta in ("beta_1", "beta_2"):
            if not 0.0 <= getattr(self, beta) < 1.0:
                raise ValueError(f"Adam({beta}={getattr(self, beta)!r}): expected 0 <= value < 1")

    def scalars(self, t):
        (lr,) = super().scalars(t)
        step = t + 1
        return (lr * math.sqrt(1.0 - self.beta_2**step) / (1.0 - self.beta_1**step),)

    def apply(self, p, g, slots, lr_t, ops):
        m = self.beta_1 * slots[0] + (1.0 - self.beta_1) * g
        v = self.beta_2 * slots[1] + (1.0 - self.beta_2) * (g * g)
        if self.amsgrad:
            vhat = ops.maximum(slots[2], v)
            return p - lr_t * m / (ops.sqrt(vhat) + self.epsilon), [m, v, vhat]
        return p - lr_t * m / (ops.sqrt(v) + self.epsilon), [m, v]


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, RMSprop, Adagrad, Adadelta, Adam)
}


def get(identifier: str | Optimizer) -> Optimizer:
    """Returns an optimizer instance from an instance or a name (Keras's defaults)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in OPTIMIZERS:
        return OPTIMIZERS[identifier.lower()]()
    raise UnknownNameError("optimizer", identifier, OPTIMIZERS)


def _with_lr_alias(cls: type[Optimizer]) -> type[Optimizer]:
    """Lets every optimizer take Keras 2's ``lr=`` as well as ``learning_rate=``."""
    init = cls.__init__

    def __init__(self, *args, lr: float | None = None, **kwargs):
        if lr is not None:
            if "learning_rate" in kwargs:
                raise TypeError(f"{cls.__name__}: give lr or learning_rate, not both")
            kwargs["learning_rate"] = lr
        init(self, *args, **kwargs)

    cls.__init__ = __init__
    return cls


for _cls in OPTIMIZERS.values():
    _with_lr_alias(_cls)
