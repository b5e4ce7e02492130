"""SEE_ICE: CNN-supervised classification of glacial landscapes and calving-front extraction.

The library behind the scripts in ``Phase_1_CNN/``, ``CSC_Application/`` and ``Batch/``.
Every computation lives here; the scripts only gather user inputs and call in.
"""

__version__ = "0.1.0"
