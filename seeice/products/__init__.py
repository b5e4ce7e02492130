"""Sentinel-2 products in: composites from L1C/L2A products, class rasters from vector files.

* :mod:`seeice.products.safe`: find a product's bands and read its metadata (``.SAFE``
  folders, zips, band-file folders);
* :mod:`seeice.products.aoi`: the area of interest, from a box or a polygon file, in any CRS;
* :mod:`seeice.products.grid`: the common 10 m grid and reading onto it;
* :mod:`seeice.products.masks`: SCL and L1C cloud masks;
* :mod:`seeice.products.composite`: the 4-band composites (``MakeComposite.py``);
* :mod:`seeice.products.labels`: ``SCLS_``, ``EDGE_`` and ``VM_`` rasters from vector files
  (``RasteriseLabels.py``).
"""
