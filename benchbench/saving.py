"""Saving and loading models in HDF5, as Keras 2 does (``model.save``, ``load_model``,
``save_weights``, ``load_weights``).

The file has Keras 2's layout: the weights under ``model_weights/<layer>/<layer>/<weight>:0``
with the ``layer_names`` and ``weight_names`` attributes Keras writes (so a Keras 2 weights file
of the same architecture loads by layer order), and ``model_config`` / ``training_config``
attributes holding benchbench's JSON description of the architecture (each layer's class and
constructor arguments) and of the optimizer, loss and metric. `load_model` rebuilds the model,
compiles it on the default backend (or the one asked for) and sets the weights. Needs ``h5py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

FORMAT = "benchbench-1"


class SavingMixin:
    """Keras 2's saving methods of `benchbench.models.Model`."""

    def get_config(self) -> dict:
        """The architecture as JSON (see `model_config`)."""
        return model_config(self)

    def save(self, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
        """Keras 2's ``model.save``: architecture, weights and training config in HDF5."""
        _may_write(filepath, overwrite)
        save(self, filepath, include_optimizer)

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Keras 2's ``save_weights``: the weights alone, in Keras 2's HDF5 layout."""
        _may_write(filepath, overwrite)
        save_weights(self, filepath)

    def load_weights(self, filepath, by_name: bool = False) -> None:
        """Keras 2's ``load_weights`` from a file of `save_weights` or `save` (or Keras 2's)."""
        load_weights(self, filepath, by_name)


def _may_write(filepath, overwrite: bool) -> None:
    if not overwrite and Path(filepath).exists():
        raise FileExistsError(f"{filepath} exists; pass overwrite=True to replace it")


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError(
            "saving and loading models needs h5py: pip install 'benchbench[keras2]'"
        ) from None
    return h5py


def save_weights(model, path) -> None:
    """Writes the weights in Keras 2's HDF5 layout (``filepath`` of ``model.save_weights``)."""
    with _h5py().File(Path(path), "w") as f:
        _write_weights(f, model)


def load_weights(model, path, by_name: bool = False) -> None:
    """Sets the weights from an HDF5 file written by `save_weights` / `save` (or by Keras 2),
    layer by layer in order, or matching layer names with `by_name`."""
    with _h5py().File(Path(path), "r") as f:
        group = f["model_weights"] if "model_weights" in f else f
        model.set_weights(_read_weights(group, model, by_name))


def save(model, path, include_optimizer: bool = True) -> None:
    """Writes the architecture, the weights and (with `include_optimizer`) the training
    configuration: what ``model.save(filepath)`` does."""
    with _h5py().File(Path(path), "w") as f:
        f.attrs["benchbench_format"] = FORMAT
        f.attrs["model_config"] = json.dumps(model.get_config())
        if include_optimizer and getattr(model, "optimizer", None) is not None:
            f.attrs["training_config"] = json.dumps(
                {
                    "optimizer_config": model.optimizer.config(),
                    "loss": model.loss_name,
                    "metrics": [model.metric_name] if model.metric_name else [],
                }
            )
        _write_weights(f.create_group("model_weights"), model)


def load_model(path, compile: bool = True, backend=None):  # noqa: A002 - Keras's argument name
    """Rebuilds a model saved by `save`; compiles it as saved (on `backend`, default the
    process's default backend) unless `compile` is False.

    Raises:
        ValueError: the file was not written by benchbench's `save` (e.g. a Keras 2 model file:
            its architecture is Keras's own; build the model and use ``load_weights``).
    """
    from benchbench import optimizers

    with _h5py().File(Path(path), "r") as f:
        if f.attrs.get("benchbench_format") != FORMAT:
            raise ValueError(
                f"{path} was not written by benchbench's model.save (a Keras 2 model file holds "
                "Keras's own architecture): build the model in code and call load_weights(path)"
            )
        model = model_from_config(json.loads(f.attrs["model_config"]))
        if compile and "training_config" in f.attrs:
            training = json.loads(f.attrs["training_config"])
            config = dict(training["optimizer_config"])
            optimizer = optimizers.OPTIMIZERS[config.pop("name")](**config)
            model.compile(optimizer, training["loss"], training["metrics"] or None, backend)
        model.set_weights(_read_weights(f["model_weights"], model, by_name=False))
    return model


def model_config(model) -> dict:
    """The architecture as JSON: the input, every layer's config and every layer call, in graph
    order (a Sequential model is saved as the functional graph it builds)."""
    ids = {model.input.id: 0}
    nodes = []
    for layer, in_ids, out in model._nodes:
        ids[out] = len(ids)
        nodes.append(
            {"layer": layer.name, "inputs": [ids[i] for i in in_ids], "merges": layer.merges}
        )
    return {
        "class_name": "Model",
        "name": model.name,
        "seed": model.seed,
        "input": {"shape": list(model.input.shape)},
        "layers": [layer.get_config() for layer in model.layers],
        "nodes": nodes,
        "output": ids[model.output.id],
    }


def model_from_config(config: dict):
    """The model a `model_config` describes (weights freshly initialised from its seed)."""
    from benchbench.layer_config import layer_from_config
    from benchbench.models import Input, Model

    layers = {c["kwargs"]["name"]: layer_from_config(c) for c in config["layers"]}
    values = [Input(config["input"]["shape"])]
    for node in config["nodes"]:
        inputs = [values[i] for i in node["inputs"]]
        values.append(layers[node["layer"]](inputs if node["merges"] else inputs[0]))
    return Model(values[0], values[config["output"]], name=config["name"], seed=config["seed"])


def _write_weights(group, model) -> None:
    by_layer = model.layer_weights()
    group.attrs["layer_names"] = [layer.name.encode() for layer, _ in by_layer]
    for layer, weights in by_layer:
        inner = group.create_group(layer.name)
        inner.attrs["weight_names"] = [f"{name}:0".encode() for name, _ in weights]
        for name, value in weights:
            inner.create_dataset(f"{name}:0", data=value)


def _read_weights(group, model, by_name: bool) -> list[np.ndarray]:
    stored = [_text(n) for n in group.attrs["layer_names"]]
    per_layer = {
        name: [np.asarray(group[name][_text(w)]) for w in group[name].attrs["weight_names"]]
        for name in stored
    }
    wanted = [layer for layer, weights in model.layer_weights() if weights]
    if by_name:
        missing = [layer.name for layer in wanted if layer.name not in per_layer]
        if missing:
            raise ValueError(f"load_weights(by_name=True): no weights for layers {missing}")
        return [w for layer in wanted for w in per_layer[layer.name]]
    found = [per_layer[name] for name in stored if per_layer[name]]
    if len(found) != len(wanted):
        raise ValueError(
            f"the file holds weights for {len(found)} layers, the model has {len(wanted)} "
            "layers with weights"
        )
    return [w for weights in found for w in weights]


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
