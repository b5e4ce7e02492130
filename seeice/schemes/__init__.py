"""Class schemes shipped with the library, read with importlib.resources (see seeice.classes.load_scheme)."""
