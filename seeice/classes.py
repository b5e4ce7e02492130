"""Class schemes: class numbers, names, display colours and the roles the front step needs.

The glacier scheme of the published method is the default (7 classes). Other schemes load
from YAML (shipped in ``seeice/schemes/``, or a file of the user's), for example the 5-class
fluvial scheme of the St Marguerite imagery. Class 0 is always "unclassified"; the calving front is written as
``n_classes + 1`` (8 in the glacier scheme).

YAML layout::

    name: glacier
    classes:            # number: [name, colour]
      1: [open water, "#03719c"]
      ...
    ocean: [1, 2, 3]    # classes that form the ocean (empty: no calving-front step)
    glacier: 4          # glacier-ice class (null: no calving-front step)
    rock: [6, 7]        # classes that keep their class inside the glacier contour
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import yaml
from matplotlib.colors import ListedColormap, to_rgb

from seeice.errors import ConfigError, InputFileError

UNCLASSIFIED_COLOUR = "#000000"
FRONT_COLOUR = "#ff0000"


@dataclass(frozen=True)
class ClassScheme:
    """Names, colours and roles of the surface classes 1..n.

    Parameters
    ----------
    name : str
        Short name of the scheme ("glacier", "fluvial", ...).
    names : tuple of str
        Class names for classes 1..n, in order.
    colours : tuple of str
        Matplotlib colours (hex or named) for classes 1..n.
    ocean : tuple of int
        Classes that together form the ocean in the calving-front step.
    glacier : int or None
        The glacier-ice class. With ``ocean`` empty or ``glacier`` None the scheme has no
        calving front.
    rock : tuple of int
        Classes that keep their class when the glacier contour is painted as glacier ice.
    """

    name: str
    names: tuple[str, ...]
    colours: tuple[str, ...]
    ocean: tuple[int, ...] = ()
    glacier: int | None = None
    rock: tuple[int, ...] = field(default_factory=tuple)

    def __post_init__(self):
        n = len(self.names)
        if n < 2:
            raise ConfigError(f"class scheme {self.name!r} needs at least 2 classes, has {n}.")
        if len(self.colours) != n:
            raise ConfigError(f"class scheme {self.name!r} has {n} names but "
                              f"{len(self.colours)} colours; give one colour per class.")
        for colour in self.colours:
            try:
                to_rgb(colour)
            except ValueError:
                raise ConfigError(f"class scheme {self.name!r}: {colour!r} is not a colour "
                                  "(use a hex code such as '#03719c' or a matplotlib name).") from None
        roles = list(self.ocean) + list(self.rock) + ([self.glacier] if self.glacier is not None else [])
        bad = [c for c in roles if not 1 <= c <= n]
        if bad:
            raise ConfigError(f"class scheme {self.name!r}: role classes {bad} are outside 1..{n}.")

    @property
    def n_classes(self) -> int:
        """Number of surface classes (NClasses)."""
        return len(self.names)

    @property
    def front_value(self) -> int:
        """Value of calving-front pixels in class outputs (NClasses + 1)."""
        return self.n_classes + 1

    @property
    def has_front(self) -> bool:
        """Whether the scheme defines ocean and glacier classes, so a front can be sought."""
        return bool(self.ocean) and self.glacier is not None

    def label(self, value: int) -> str:
        """Display name of an output value: 0 unclassified, 1..n classes, n+1 front."""
        if value == 0:
            return "unclassified"
        if value == self.front_value:
            return "calving front"
        return self.names[value - 1]

    def palette_rgb(self) -> np.ndarray:
        """Colours of values 0..n+1 (unclassified, classes, front) as uint8, shape (n + 2, 3)."""
        colours = (UNCLASSIFIED_COLOUR, *self.colours, FRONT_COLOUR)
        return np.round(np.array([to_rgb(c) for c in colours]) * 255).astype(np.uint8)

    def colormap(self) -> ListedColormap:
        """A matplotlib colormap for values 0..n+1; use with ``vmin=0, vmax=n+1`` ... or
        :meth:`norm_bounds` so every panel shares one scale."""
        return ListedColormap(self.palette_rgb() / 255.0, name=f"seeice_{self.name}")

    def to_dict(self) -> dict:
        """Plain-data form, as saved in model metadata and ``run.json``."""
        return {"name": self.name,
                "classes": {i + 1: [n, c] for i, (n, c) in enumerate(zip(self.names, self.colours))},
                "ocean": list(self.ocean), "glacier": self.glacier, "rock": list(self.rock)}


GLACIER_SCHEME = ClassScheme(
    name="glacier",
    names=("open water", "iceberg water", "melange", "glacier ice", "snow on ice",
           "snow on rock", "rock"),
    colours=("#03719c", "#06b1c4", "#6fe1e5", "#b9ebee", "mintcream", "#c9c9c9", "#775b5a"),
    ocean=(1, 2, 3),
    glacier=4,
    rock=(6, 7),
)

_KEYS = {"name", "classes", "ocean", "glacier", "rock"}


def scheme_from_dict(data: dict, source: str = "class scheme") -> ClassScheme:
    """Build a :class:`ClassScheme` from its plain-data form (see module docstring)."""
    if not isinstance(data, dict) or "classes" not in data:
        raise ConfigError(f"{source}: expected a mapping with a 'classes' entry.")
    unknown = set(data) - _KEYS
    if unknown:
        raise ConfigError(f"{source}: unknown keys {sorted(unknown)}; valid keys are {sorted(_KEYS)}.")
    classes = {int(k): v for k, v in data["classes"].items()}
    if sorted(classes) != list(range(1, len(classes) + 1)):
        raise ConfigError(f"{source}: classes must be numbered 1..n without gaps, got {sorted(classes)}.")
    for number, entry in classes.items():
        if not (isinstance(entry, (list, tuple)) and len(entry) == 2):
            raise ConfigError(f"{source}: class {number} must be [name, colour], got {entry!r}.")
    ordered = [classes[i] for i in sorted(classes)]
    return ClassScheme(
        name=str(data.get("name", "custom")),
        names=tuple(str(e[0]) for e in ordered),
        colours=tuple(str(e[1]) for e in ordered),
        ocean=tuple(int(c) for c in data.get("ocean") or ()),
        glacier=None if data.get("glacier") is None else int(data["glacier"]),
        rock=tuple(int(c) for c in data.get("rock") or ()),
    )


def load_scheme(spec: str | os.PathLike | None) -> ClassScheme:
    """Return a class scheme from a name or a YAML file.

    Parameters
    ----------
    spec : str, path or None
        None or ``"glacier"`` gives the default 7-class glacier scheme; the name of a scheme
        shipped with the library (``"fluvial"``: ``seeice/schemes/fluvial.yaml``) or the path
        of a YAML file loads that scheme.
    """
    if spec is None or str(spec) == "glacier":
        return GLACIER_SCHEME
    path = Path(spec)
    if not path.suffix:
        shipped = resources.files("seeice.schemes") / f"{spec}.yaml"
        if not shipped.is_file():
            raise InputFileError(f"class scheme {str(spec)!r} is not one of the shipped schemes "
                                 f"({', '.join(shipped_schemes())}). Give one of those or the path "
                                 "of a scheme YAML file.")
        text, path = shipped.read_text(encoding="utf-8"), Path(str(shipped))
    elif not path.is_file():
        raise InputFileError(f"class scheme file {path} not found. Give one of the shipped "
                             f"schemes ({', '.join(shipped_schemes())}) or the path of a scheme "
                             "YAML file.")
    else:
        text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"class scheme file {path} is not valid YAML: {exc}") from None
    return scheme_from_dict(data, source=str(path))


def shipped_schemes() -> list[str]:
    """Names of the class schemes shipped with the library (``seeice/schemes/*.yaml``)."""
    return sorted(Path(str(p)).stem for p in resources.files("seeice.schemes").iterdir()
                  if str(p).endswith(".yaml"))


def looks_like_fill(value: int, n_classes: int) -> bool:
    """True when a class number is far beyond any class scheme of ``n_classes`` classes (more
    than twice ``max(n_classes, 10)``, such as 255 or 99 for 7 classes): a no-data or fill
    value, never a class."""
    return int(value) > 2 * max(int(n_classes), 10)


def class_count_advice(found, n_classes: int) -> str:
    """The fix for class numbers above the class count ``n_classes``, as one sentence.

    Classes are numbered 1..n without gaps. Numbers that run on from ``n_classes`` (8, 9 for
    7 classes) may mean the class count is too small: use ``--classes`` the largest. A number
    far beyond any class scheme (more than twice ``max(n_classes, 10)``, such as 255 or 99)
    is a no-data or fill value, and raising the class count would train empty classes: the
    advice is to make it unlabelled. Numbers in between with a gap (12 for 7 classes) are
    either; the advice names the empty classes a larger count would give.

    Parameters
    ----------
    found : iterable of int
        Class numbers found (any order; those up to ``n_classes`` are ignored).
    n_classes : int
        The class count in force.
    """
    above = sorted({int(k) for k in found if int(k) > n_classes})
    if not above:
        return ""
    largest = above[-1]
    shown = ", ".join(str(k) for k in above[:10])
    if looks_like_fill(largest, n_classes):
        return (f"Value {largest} is far beyond any class count: it looks like a no-data or "
                "fill value, not a class, so do not raise --classes. Declare it as the SCLS_ "
                "rasters' nodata value (then it is read as unlabelled) or recode it to 0, and "
                "prepare the tiles again.")
    empty = sorted(set(range(n_classes + 1, largest + 1)) - set(above))
    if not empty:
        return (f"Use --classes {largest} if the scheme has {largest} classes, or recode "
                f"class(es) {shown} in the SCLS_ rasters to the scheme's classes or 0.")
    gap = ", ".join(str(k) for k in empty[:10]) + (", ..." if len(empty) > 10 else "")
    return (f"Use --classes {largest} only if the scheme has {largest} classes (class(es) {gap} "
            f"would then have no tiles); otherwise recode {shown} in the SCLS_ rasters to the "
            "scheme's classes or 0 (unlabelled).")


def check_found_classes(found, n_classes: int | None) -> None:
    """Refuse class numbers found in class rasters that cannot be classes of the tile set.

    Parameters
    ----------
    found : sequence of int
        The class numbers found, ascending.
    n_classes : int or None
        The class count given (``--classes``); None when it is taken from the classes found.

    Raises
    ------
    ConfigError
        A number above ``n_classes``; or, without a class count, a number far beyond the
        others (255 beside 1..7: a fill value, which would become a class of its own). No-data
        is never a class.
    """
    found = sorted(int(k) for k in found)
    if n_classes is None and len(found) > 1 and looks_like_fill(found[-1], found[-2]):
        raise ConfigError(f"the class rasters hold class {found[-1]} beside classes "
                          f"{', '.join(map(str, found[:-1]))}. "
                          + class_count_advice(found, found[-2]))
    if n_classes is not None and found and found[-1] > n_classes:
        raise ConfigError(f"the class rasters hold class {found[-1]} but {n_classes} classes "
                          "were given (--classes). " + class_count_advice(found, n_classes))
