"""Keras 2's ``keras.utils`` names: `to_categorical`, `normalize`, `np_utils`, `Sequence`."""

from benchbench.utils import np_utils
from benchbench.utils.data_utils import Sequence
from benchbench.utils.np_utils import normalize, to_categorical

__all__ = ["Sequence", "normalize", "np_utils", "to_categorical"]
