"""Keras 2's ``keras.preprocessing``: `image.ImageDataGenerator` and `sequence.pad_sequences`."""

from benchbench.preprocessing import image, sequence

__all__ = ["image", "sequence"]
