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
  ``p -= lr * sqrt(1 - b2**(t+1)) / (1 - b1**(t+1)) * m / (sqrt(v) + epsilon)``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any, ClassVar

from benchbench.errors import UnknownNameError

EPSILON = 1e-7


@dataclasses.dataclass(frozen=True)
class Optimizer:
    """Base class. Subclasses define fields, `slot_names` and `apply`."""

    learning_rate: float = 0.01
    decay: float = 0.0

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

    def update(
        self, p: Any, g: Any, slots: list[Any], scalars, sqrt: Callable[[Any], Any]
    ) -> tuple[Any, list[Any]]:
        """Returns the new parameter value and new slot values.

        Args:
            p: the parameter's current value; g: its gradient; slots: the current slot values in
                `slot_names` order.
            scalars: this step's `scalars`, as Python floats or as float32 scalar tensors of
                the backend (a compiled step takes them as an input).
            sqrt: the framework's elementwise square root.
        """
        return self.apply(p, g, slots, scalars[0], sqrt)

    def apply(self, p, g, slots, lr, sqrt):
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

    def apply(self, p, g, slots, lr, sqrt):
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

    def apply(self, p, g, slots, lr, sqrt):
        a = self.rho * slots[0] + (1.0 - self.rho) * (g * g)
        return p - lr * g / (sqrt(a) + self.epsilon), [a]


@dataclasses.dataclass(frozen=True)
class Adagrad(Optimizer):
    learning_rate: float = 0.01
    epsilon: float = EPSILON
    decay: float = 0.0
    slot_names: ClassVar[tuple[str, ...]] = ("accumulator",)
    name: ClassVar[str] = "adagrad"

    def apply(self, p, g, slots, lr, sqrt):
        a = slots[0] + g * g
        return p - lr * g / (sqrt(a) + self.epsilon), [a]


@dataclasses.dataclass(frozen=True)
class Adadelta(Optimizer):
    learning_rate: float = 1.0
    rho: float = 0.95
    epsilon: float = EPSILON
    decay: float = 0.0
    slot_names: ClassVar[tuple[str, ...]] = ("accumulator", "delta_accumulator")
    name: ClassVar[str] = "adadelta"

    def apply(self, p, g, slots, lr, sqrt):
        a = self.rho * slots[0] + (1.0 - self.rho) * (g * g)
        u = g * sqrt(slots[1] + self.epsilon) / sqrt(a + self.epsilon)
        d = self.rho * slots[1] + (1.0 - self.rho) * (u * u)
        return p - lr * u, [a, d]


@dataclasses.dataclass(frozen=True)
class Adam(Optimizer):
    learning_rate: float = 0.001
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = EPSILON
    decay: float = 0.0
    slot_names: ClassVar[tuple[str, ...]] = ("m", "v")
    name: ClassVar[str] = "adam"

    def __post_init__(self):
        super().__post_init__()
        for beta in ("beta_1", "beta_2"):
            if not 0.0 <= getattr(self, beta) < 1.0:
                raise ValueError(f"Adam({beta}={getattr(self, beta)!r}): expected 0 <= value < 1")

    def scalars(self, t):
        (lr,) = super().scalars(t)
        step = t + 1
        return (lr * math.sqrt(1.0 - self.beta_2**step) / (1.0 - self.beta_1**step),)

    def apply(self, p, g, slots, lr_t, sqrt):
        m = self.beta_1 * slots[0] + (1.0 - self.beta_1) * g
        v = self.beta_2 * slots[1] + (1.0 - self.beta_2) * (g * g)
        return p - lr_t * m / (sqrt(v) + self.epsilon), [m, v]


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
