"""Keras 2's ``keras.preprocessing.image.ImageDataGenerator``, for channels-last NumPy images.

Random transforms follow Keras 2.3's (keras_preprocessing 1.1): rotation, shifts, shear and zoom
compose one affine map about the image centre, applied channel by channel with SciPy's
``ndimage.affine_transform`` (spline order `interpolation_order`, Keras's `fill_mode` and
`cval`); then channel shift and flips; `standardize` applies `preprocessing_function`,
`rescale`, the samplewise and featurewise normalisations and ZCA whitening, in Keras's order.
`flow` serves ``(x, y)`` batches as a `benchbench.utils.Sequence`, for ``fit_generator``. Random
draws come from a NumPy ``Generator`` seeded by ``flow(seed=...)`` (Keras draws from NumPy's
global state), so a seeded run repeats exactly.

Not supported (an error says so): ``data_format='channels_first'``, ``brightness_range`` (Keras
needs PIL for it), ``flow_from_directory``/``flow_from_dataframe``, ``save_to_dir``.
"""

from __future__ import annotations

import math

import numpy as np

from benchbench.utils.data_utils import Sequence

_ROW, _COL, _CHANNEL = 0, 1, 2  # axes of one image (height, width, channels)
FILL_MODES = ("constant", "nearest", "reflect", "wrap")


class ImageDataGenerator:
    """Real-time augmentation and normalisation of image batches (Keras 2's arguments)."""

    def __init__(
        self,
        featurewise_center: bool = False,
        samplewise_center: bool = False,
        featurewise_std_normalization: bool = False,
        samplewise_std_normalization: bool = False,
        zca_whitening: bool = False,
        zca_epsilon: float = 1e-6,
        rotation_range: float = 0,
        width_shift_range=0.0,
        height_shift_range=0.0,
        brightness_range=None,
        shear_range: float = 0.0,
        zoom_range=0.0,
        channel_shift_range: float = 0.0,
        fill_mode: str = "nearest",
        cval: float = 0.0,
        horizontal_flip: bool = False,
        vertical_flip: bool = False,
        rescale: float | None = None,
        preprocessing_function=None,
        data_format: str | None = None,
        validation_split: float = 0.0,
        interpolation_order: int = 1,
        dtype: str = "float32",
    ):
        if data_format not in (None, "channels_last"):
            raise ValueError(
                f"ImageDataGenerator(data_format={data_format!r}): benchbench is channels-last "
                "only; keep images as (samples, rows, cols, channels)"
            )
        if brightness_range is not None:
            raise ValueError(
                "ImageDataGenerator(brightness_range=...) is not supported (Keras applies it "
                "through PIL); scale the images with preprocessing_function instead"
            )
        if fill_mode not in FILL_MODES:
            raise ValueError(f"fill_mode must be one of {FILL_MODES}, got {fill_mode!r}")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must lie in [0, 1), got {validation_split}")
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening, self.zca_epsilon = zca_whitening, zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range, self.height_shift_range = width_shift_range, height_shift_range
        self.shear_range = shear_range
        self.zoom_range = _zoom_range(zoom_range)
        self.channel_shift_range = channel_shift_range
        self.fill_mode, self.cval = fill_mode, cval
        self.horizontal_flip, self.vertical_flip = horizontal_flip, vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.validation_split = validation_split
        self.interpolation_order = interpolation_order
        self.dtype = dtype
        self.mean = self.std = self.principal_components = None

    # -- statistics ------------------------------------------------------------------------------

    def fit(self, x, augment: bool = False, rounds: int = 1, seed: int | None = None) -> None:
        """Computes the featurewise mean and std and the ZCA matrix from `x` (when asked for)."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"fit expects images (samples, rows, cols, channels), got {x.shape}")
        if augment:
            rng = np.random.default_rng(seed)
            x = np.stack([self.random_transform(img, rng) for _ in range(rounds) for img in x])
        if self.featurewise_center:
            self.mean = x.mean(axis=(0, 1, 2), keepdims=True)[0]
            x = x - self.mean
        if self.featurewise_std_normalization:
            self.std = x.std(axis=(0, 1, 2), keepdims=True)[0]
            x = x / (self.std + 1e-6)
        if self.zca_whitening:
            flat = x.reshape(len(x), -1)
            sigma = flat.T @ flat / len(flat)
            u, s, _ = np.linalg.svd(sigma)
            self.principal_components = (u * (1.0 / np.sqrt(s + self.zca_epsilon))) @ u.T

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """Normalises one image or a batch, in Keras's order."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x = x * self.rescale
        axes = tuple(range(x.ndim - 3, x.ndim))  # one image's axes, in a batch or alone
        if self.samplewise_center:
            x = x - np.mean(x, axis=axes, keepdims=True)
        if self.samplewise_std_normalization:
            x = x / (np.std(x, axis=axes, keepdims=True) + 1e-6)
        for flag, stat, what in (
            (self.featurewise_center, self.mean, "featurewise_center"),
            (self.featurewise_std_normalization, self.std, "featurewise_std_normalization"),
            (self.zca_whitening, self.principal_components, "zca_whitening"),
        ):
            if flag and stat is None:
                raise ValueError(f"{what} needs statistics: call fit(x_train) first")
        if self.featurewise_center:
            x = x - self.mean
        if self.featurewise_std_normalization:
            x = x / (self.std + 1e-6)
        if self.zca_whitening:
            shape = x.shape
            x = x.reshape(-1, self.principal_components.shape[0]) @ self.principal_components
            x = x.reshape(shape)
        return x

    # -- random transforms -----------------------------------------------------------------------

    def get_random_transform(self, img_shape, rng: np.random.Generator) -> dict:
        """Draws the parameters of one image's transform (Keras's keys)."""
        h, w = img_shape[_ROW], img_shape[_COL]
        zx = zy = 1.0
        if self.zoom_range != (1.0, 1.0):
            zx, zy = rng.uniform(*self.zoom_range, 2)
        return {
            "theta": _uniform(rng, self.rotation_range),
            "tx": _shift(rng, self.height_shift_range, h),
            "ty": _shift(rng, self.width_shift_range, w),
            "shear": _uniform(rng, self.shear_range),
            "zx": zx,
            "zy": zy,
            "flip_horizontal": bool(self.horizontal_flip and rng.random() < 0.5),
            "flip_vertical": bool(self.vertical_flip and rng.random() < 0.5),
            "channel_shift_intensity": (
                _uniform(rng, self.channel_shift_range) if self.channel_shift_range else None
            ),
        }

    def apply_transform(self, x: np.ndarray, params: dict) -> np.ndarray:
        """Applies one image's transform: the affine map, channel shift, then flips."""
        matrix = _affine_matrix(params, x.shape[_ROW], x.shape[_COL])
        if matrix is not None:
            x = self._warp(x, matrix)
        if params.get("channel_shift_intensity") is not None:
            low, high = np.min(x), np.max(x)
            x = np.clip(x + params["channel_shift_intensity"], low, high)
        if params.get("flip_horizontal"):
            x = x[:, ::-1]
        if params.get("flip_vertical"):
            x = x[::-1]
        return x

    def random_transform(self, x: np.ndarray, rng: np.random.Generator | int | None = None):
        """One image, randomly transformed."""
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        return self.apply_transform(x, self.get_random_transform(x.shape, rng))

    def _warp(self, x: np.ndarray, matrix: np.ndarray) -> np.ndarray:
        try:
            from scipy import ndimage
        except ImportError:
            raise ImportError(
                "ImageDataGenerator's rotation, shift, shear and zoom need SciPy: "
                "pip install 'benchbench[check]'"
            ) from None
        channels = [
            ndimage.affine_transform(
                x[..., c],
                matrix[:2, :2],
                matrix[:2, 2],
                order=self.interpolation_order,
                mode=self.fill_mode,
                cval=self.cval,
            )
            for c in range(x.shape[_CHANNEL])
        ]
        return np.stack(channels, axis=-1)

    # -- batches ---------------------------------------------------------------------------------

    def flow(
        self,
        x,
        y=None,
        batch_size: int = 32,
        shuffle: bool = True,
        sample_weight=None,
        seed: int | None = None,
        save_to_dir=None,
        save_prefix: str = "",
        save_format: str = "png",
        subset: str | None = None,
    ) -> NumpyArrayIterator:
        """Batches of transformed, standardised images (and their `y`), as a `Sequence`."""
        if sample_weight is not None or save_to_dir is not None:
            raise ValueError("flow: sample_weight and save_to_dir are not supported")
        return NumpyArrayIterator(self, x, y, batch_size, shuffle, seed, subset)

    def flow_from_directory(self, *args, **kwargs):
        raise NotImplementedError(
            "flow_from_directory is not supported (it reads image files through PIL); load the "
            "images into an array and use flow(x, y)"
        )

    flow_from_dataframe = flow_from_directory


class NumpyArrayIterator(Sequence):
    """`ImageDataGenerator.flow`'s batches: shuffled anew every epoch when `shuffle`."""

    def __init__(self, generator, x, y, batch_size, shuffle, seed, subset):
        x = np.asarray(x)
        if x.ndim != 4:
            raise ValueError(f"flow expects images (samples, rows, cols, channels), got {x.shape}")
        if y is not None and len(y) != len(x):
            raise ValueError(f"flow: x has {len(x)} samples but y has {len(y)}")
        split = generator.validation_split
        if subset is not None:
            if subset not in ("training", "validation") or not split:
                raise ValueError(
                    f"flow: subset must be 'training' or 'validation' with a validation_split, "
                    f"got {subset!r}"
                )
            cut = int(math.ceil(split * len(x)))
            chosen = slice(0, cut) if subset == "validation" else slice(cut, None)
            x, y = x[chosen], (None if y is None else np.asarray(y)[chosen])
        self.generator, self.x, self.y = generator, x, None if y is None else np.asarray(y)
        self.batch_size, self.shuffle = batch_size, shuffle
        self.rng = np.random.default_rng(seed)
        self.n = len(x)
        self.on_epoch_end()

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(self.n) if self.shuffle else np.arange(self.n)

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of a sequence of {len(self)}")
        chosen = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        g = self.generator
        images = [g.random_transform(self.x[i].astype(g.dtype), self.rng) for i in chosen]
        batch = g.standardize(np.stack(images)).astype(g.dtype)
        return batch if self.y is None else (batch, self.y[chosen])


def _zoom_range(zoom) -> tuple[float, float]:
    if isinstance(zoom, int | float):
        return (1.0 - zoom, 1.0 + zoom)
    zoom = tuple(zoom)
    if len(zoom) != 2:
        raise ValueError(f"zoom_range must be a float or two floats, got {zoom!r}")
    return float(zoom[0]), float(zoom[1])


def _uniform(rng, bound) -> float:
    return float(rng.uniform(-bound, bound)) if bound else 0.0


def _shift(rng, shift_range, size: int) -> float:
    """Keras's shift rules: a list is a choice of pixel shifts; an int r a whole number of pixels
    in (-r, r); a float a fraction of the size when below 1, else pixels."""
    if not isinstance(shift_range, int | float):
        return float(rng.choice(np.asarray(shift_range)))
    if isinstance(shift_range, int) and shift_range >= 1:
        return float(rng.integers(-shift_range + 1, shift_range))
    shift = _uniform(rng, shift_range)
    return shift * size if shift_range < 1 else shift


def _affine_matrix(params: dict, h: int, w: int) -> np.ndarray | None:
    """The 3x3 map from output to input pixel coordinates (row, col), about the image centre;
    None for the identity."""
    theta, shear = math.radians(params["theta"]), math.radians(params["shear"])
    tx, ty, zx, zy = params["tx"], params["ty"], params["zx"], params["zy"]
    if theta == 0 and tx == 0 and ty == 0 and shear == 0 and zx == 1 and zy == 1:
        return None
    rotation = np.array(
        [[math.cos(theta), -math.sin(theta), 0], [math.sin(theta), math.cos(theta), 0], [0, 0, 1]]
    )
    shift = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    shearing = np.array([[1, -math.sin(shear), 0], [0, math.cos(shear), 0], [0, 0, 1]])
    zoom = np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
    matrix = rotation @ shift @ shearing @ zoom
    cx, cy = h / 2 + 0.5, w / 2 + 0.5
    to_centre = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1]])
    from_centre = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]])
    return to_centre @ matrix @ from_centre
