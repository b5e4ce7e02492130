"""RasteriseLabels: SCLS_, EDGE_ and VM_ rasters from vector files, on an image's exact grid.

Polygons (--classes) whose class field (--field) holds a class number or a class name of the
scheme (any case, e.g. "glacier ice") become SCLS_<stem>.tif beside the image: uint8, each
pixel takes the class of the polygon containing its centre, 0 (declared nodata) is
unlabelled. Where polygons overlap, the later feature in the file wins. Calving-front lines
(--front) become EDGE_<stem>.tif and valley-margin lines (--margins) VM_<stem>.tif: 1 on
every pixel a line touches, 0 elsewhere. Vectors in another CRS are reprojected to the
image's; features outside the image are counted in a warning. An unknown class name is an
error listing the valid names; a missing field is an error listing the file's fields.
"""
# ==== USER INPUTS ====
Like = "Data/Composites/S2B_20200815_T24WWU.tif"  # --like: the image (composite) the rasters are for; they are written beside it
Classes = ""                     # --classes: polygons with a class field (number or class name) -> SCLS_<stem>.tif
Field = "class"                  # --field: the class field of the --classes polygons
Front = ""                       # --front: calving-front lines -> EDGE_<stem>.tif
Margins = ""                     # --margins: valley-margin lines -> VM_<stem>.tif
Scheme = "glacier"               # --scheme: class names: glacier, fluvial or a scheme YAML
# ==== END OF USER INPUTS ====

import logging

from seeice.config.runner import run_script

log = logging.getLogger("seeice")


def main(cfg):
    from seeice.classes import load_scheme
    from seeice.products.labels import rasterise_labels

    rasterise_labels(cfg.Like, load_scheme(cfg.Scheme), classes=cfg.Classes or None,
                     field=cfg.Field, front=cfg.Front or None, margins=cfg.Margins or None)
    return 0


if __name__ == "__main__":
    run_script(__file__, main)
