"""Metadata of a phase-one model, saved as a sidecar JSON beside it: the format, its checks and
the default class scheme (the sidecar's layout is in :mod:`seeice.io.model_store`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from seeice.checks import positive_int
from seeice.classes import GLACIER_SCHEME, ClassScheme, scheme_from_dict
from seeice.errors import ConfigError, ModelError
from seeice.normalise import SENTINEL2_NORM_FACTOR
from seeice.timestamps import utc_now

FORMAT = "seeice-model/1"
_SAVED_KEYS = ("format", "base", "tile_size", "bands", "n_classes", "class_names", "scheme",
               "norm_factor", "precision", "created", "weak_classes", "validation_recall",
               "training")



def default_scheme(n_classes: int) -> ClassScheme:
    """The class scheme assumed when none is given: the glacier scheme for 7 classes,
    otherwise classes named "class 1" ... "class n" with distinct colours and no front."""
    if n_classes == GLACIER_SCHEME.n_classes:
        return GLACIER_SCHEME
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps["tab20" if n_classes > 10 else "tab10"]
    colours = tuple(to_hex(cmap(i % cmap.N)) for i in range(n_classes))
    return ClassScheme(name=f"{n_classes} classes",
                       names=tuple(f"class {i}" for i in range(1, n_classes + 1)),
                       colours=colours)


@dataclass
class ModelMetadata:
    """What inference needs to know about a tile model besides its weights.

    Attributes
    ----------
    base : str
        Convolutional base ("vgg16", "densenet121", "resnet50"; "unknown" for legacy models
        whose base cannot be told).
    tile_size : int
        Tile edge in pixels (the network's input height and width).
    bands : int
        Bands per tile (the network's input channels).
    n_classes : int
        Number of classes; the network has ``n_classes + 1`` outputs (column 0 unused).
    class_names : list of str
        Names of classes 1..n (defaults to the scheme's names).
    scheme : dict
        The class scheme, :meth:`seeice.classes.ClassScheme.to_dict` form (defaults to
        :func:`default_scheme`).
    norm_factor : float
        Raw pixel values are divided by this before the network (8192 for Sentinel-2 DN,
        255 for 8-bit imagery, 1 for networks trained on raw values).
    precision : str
        Keras precision policy the model was trained under.
    created : str
        ISO 8601 time (UTC) the model was saved.
    weak_classes : list of int or None
        Classes the model is known to mislabel: validation recall under 0.6 after training, or
        no training tiles (ascending). ``CSC.py`` repeats them in a warning. None when not
        measured (models saved before this record existed, legacy models).
    validation_recall : dict or None
        Class number -> recall on the validation tiles of the kept epoch, for the classes with
        validation tiles (string keys in the JSON). None when not measured.
    training : dict
        Free information about the training run.
    format : str
        Sidecar format tag, ``"seeice-model/1"``.
    inferred : bool
        True when the metadata were guessed from a model without a sidecar (not saved).
    """

    base: str
    tile_size: int
    bands: int
    n_classes: int
    class_names: list[str] | None = None
    scheme: dict | None = None
    norm_factor: float = SENTINEL2_NORM_FACTOR
    precision: str = "float32"
    created: str = ""
    weak_classes: list[int] | None = None
    validation_recall: dict[int, float] | None = None
    training: dict = field(default_factory=dict)
    format: str = FORMAT
    inferred: bool = field(default=False, repr=False, compare=False)

    def __post_init__(self):
        for name in ("tile_size", "bands", "n_classes"):
            setattr(self, name, positive_int(getattr(self, name), f"model metadata: {name}"))
        if self.scheme is None:
            scheme = default_scheme(self.n_classes)
            if self.class_names is not None and len(self.class_names) == self.n_classes:
                scheme = ClassScheme(name=scheme.name, names=tuple(map(str, self.class_names)),
                                     colours=scheme.colours, ocean=scheme.ocean,
                                     glacier=scheme.glacier, rock=scheme.rock)
            self.scheme = scheme.to_dict()
        elif isinstance(self.scheme, ClassScheme):
            self.scheme = self.scheme.to_dict()
        scheme = self.class_scheme()
        self.scheme = scheme.to_dict()          # one canonical form (integer class keys)
        if scheme.n_classes != self.n_classes:
            raise ConfigError(f"model metadata: the class scheme {scheme.name!r} has "
                              f"{scheme.n_classes} classes but the model has {self.n_classes}.")
        if self.class_names is None:
            self.class_names = list(scheme.names)
        self.class_names = [str(n) for n in self.class_names]
        if len(self.class_names) != self.n_classes:
            raise ConfigError(f"model metadata: {len(self.class_names)} class names for "
                              f"{self.n_classes} classes.")
        try:
            self.norm_factor = float(self.norm_factor)
        except (TypeError, ValueError):
            raise ConfigError(f"model metadata: norm_factor must be a number, got "
                              f"{self.norm_factor!r}.") from None
        if not self.norm_factor > 0:
            raise ConfigError(f"model metadata: norm_factor must be positive, got {self.norm_factor}.")
        if self.training is None:
            self.training = {}
        self._check_recall_record()
        if not self.created:
            self.created = utc_now()

    def _check_recall_record(self) -> None:
        """Canonical ``weak_classes`` (sorted ints) and ``validation_recall`` (int keys)."""
        def class_number(value, what):
            try:
                number = int(value)
            except (TypeError, ValueError):
                number = None
            if number is None or str(value).strip() != str(number) or \
                    not 1 <= number <= self.n_classes:
                raise ConfigError(f"model metadata: {what} {value!r} is not a class number "
                                  f"1..{self.n_classes}.")
            return number

        if self.weak_classes is not None:
            if isinstance(self.weak_classes, (str, bytes)) or \
                    not hasattr(self.weak_classes, "__iter__"):
                raise ConfigError(f"model metadata: weak_classes must be a list of class "
                                  f"numbers, got {self.weak_classes!r}.")
            self.weak_classes = sorted({class_number(k, "weak class")
                                        for k in self.weak_classes})
        if self.validation_recall is not None:
            if not isinstance(self.validation_recall, dict):
                raise ConfigError(f"model metadata: validation_recall must map class numbers "
                                  f"to recalls, got {self.validation_recall!r}.")
            recall = {}
            for key, value in self.validation_recall.items():
                try:
                    value = float(value)
                except (TypeError, ValueError):
                    value = float("nan")
                if not 0.0 <= value <= 1.0:
                    raise ConfigError(f"model metadata: validation recall of class {key} must "
                                      f"be in [0, 1], got {self.validation_recall[key]!r}.")
                recall[class_number(key, "validation_recall class")] = value
            self.validation_recall = dict(sorted(recall.items()))

    def class_scheme(self) -> ClassScheme:
        """The class scheme as a :class:`seeice.classes.ClassScheme`."""
        return scheme_from_dict(self.scheme, source="model metadata")

    def to_dict(self) -> dict:
        """The sidecar's content (the keys of the agreed format, in order; JSON keys are text)."""
        data = asdict(self)
        if data["validation_recall"] is not None:
            data["validation_recall"] = {str(k): v for k, v in data["validation_recall"].items()}
        return {key: data[key] for key in _SAVED_KEYS}

    @classmethod
    def from_dict(cls, data: dict, source: str = "model metadata") -> "ModelMetadata":
        """Build from a sidecar's content.

        Raises
        ------
        ModelError
            Not the agreed format, a required key missing, or inconsistent values.
        """
        if not isinstance(data, dict):
            raise ModelError(f"{source}: expected a JSON object.")
        tag = data.get("format")
        if tag != FORMAT:
            raise ModelError(f"{source}: format {tag!r} is not {FORMAT!r}; it was not written "
                             "by this version of SEE_ICE.")
        missing = [k for k in ("base", "tile_size", "bands", "n_classes") if k not in data]
        if missing:
            raise ModelError(f"{source}: missing keys {missing}.")
        values = {k: data[k] for k in _SAVED_KEYS if k in data}
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ModelError(f"{source}: {exc}") from None
