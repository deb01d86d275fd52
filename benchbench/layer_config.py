"""Layer configs: constructor arguments as JSON and back (for `benchbench.saving`).

A value is kept as it is when JSON can hold it; a tuple becomes ``{"tuple": [...]}``, a layer
(``Bidirectional(LSTM(...))``) ``{"layer": config}``, an activation or initializer function its
registered name (``{"activation": "relu"}``, ``{"initializer": "zeros"}``). Anything else (a
custom function) cannot be saved, and the error names the layer and the argument.
"""

from __future__ import annotations

from typing import Any

from benchbench import activations, initializers


def serialize(value, layer) -> Any:
    from benchbench.layers import Layer

    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [serialize(v, layer) for v in value]
    if isinstance(value, tuple):
        return {"tuple": [serialize(v, layer) for v in value]}
    if isinstance(value, dict):
        return {k: serialize(v, layer) for k, v in value.items()}
    if isinstance(value, Layer):
        return {"layer": value.get_config()}
    if callable(value):
        for name, fn in activations.ACTIVATIONS.items():
            if fn is value:
                return {"activation": name}
        for name, fn in initializers.INITIALIZERS.items():
            if fn is value:
                return {"initializer": name}
    raise ValueError(
        f"layer {layer.name!r} ({type(layer).__name__}) has an argument that cannot be saved: "
        f"{value!r}; use a registered name (activation/initializer) instead"
    )


def deserialize(value) -> Any:
    if isinstance(value, list):
        return [deserialize(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"tuple"}:
            return tuple(deserialize(v) for v in value["tuple"])
        if set(value) == {"layer"}:
            return layer_from_config(value["layer"])
        if set(value) == {"activation"}:
            return value["activation"]
        if set(value) == {"initializer"}:
            return value["initializer"]
        return {k: deserialize(v) for k, v in value.items()}
    return value


def layer_from_config(config: dict):
    """The layer a `serialize`d config describes (a class of `benchbench.layers`)."""
    from benchbench import layers
    from benchbench.errors import UnknownNameError

    cls = getattr(layers, config["class_name"], None)
    if not isinstance(cls, type) or not issubclass(cls, layers.Layer):
        known = [n for n in dir(layers) if isinstance(getattr(layers, n), type)]
        raise UnknownNameError("layer class", config["class_name"], known)
    return cls(*deserialize(config["args"]), **deserialize(config["kwargs"]))
