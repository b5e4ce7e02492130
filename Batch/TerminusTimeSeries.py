"""TerminusTimeSeries: the calving front of one glacier on every date, and where its terminus was.

Every image of Images (dated scenes of one glacier on one grid) is classified with CSC, one
sweep job per date (here, or in parallel with --engine ray; a rerun skips finished dates), or
its existing CSC outputs are reused with --results. From each date's front the terminus
position is measured by the box method (Moon and Joughin 2008: glacier area in the box on the
glacier side of the front / the box's width) and by the centreline method (distance along
the centreline, ocean end first, to its crossing with the front; the most seaward crossing
when there are several, flagged). Positions are relative to the first date, in metres,
advance positive, retreat negative. Dates come from the images' ACQUISITION_DATETIME tags,
else a YYYYMMDD or YYYY-MM-DD in the file name, else the --dates CSV (columns Image, Date).
Outputs in Out: terminus_positions.csv (positions, changes and rates per method, front found,
front error against an EDGE_ front, quality flags), fronts.gpkg and fronts.geojson (WGS84)
with one line per date and the fields of the CALFIN / TermPicks terminus schema,
terminus_positions.png and fronts_map.png.
"""
# ==== USER INPUTS ====
Images = "Data/TimeSeries"      # --images: folder of dated images of one glacier, on one grid
ModelName = "Models/VGG16_50_RGBNIR.keras"  # --model: trained phase-one model (.keras or legacy .h5)
Experiment = "CSC"              # --experiment: short experiment name (k<k> is appended)
Ndims = 4                       # --bands: bands used (3 = RGB, 4 = RGB + NIR)
NClasses: int = None            # --classes: number of classes (empty: from the model)
Kernel_size = 7                 # --patch-size {1,3,5,7,15}: patch size k of the phase-two classifier
size = 50                       # --tile-size: phase-one tile size (must match the model)
CNNsamples = 500000             # --samples: training windows per class for phase two
WholeImage = 1                  # --whole-image {0,1}: 1 whole image at once, 0 row blocks (same result)
MemoryBudgetMB = 1024           # --memory-budget: memory budget of phase-two inference in MB
Patience = 10                   # --patience: early-stopping patience of phase two (50 suits k = 1)
TrainingEpochs = 300            # --max-epochs: most training epochs of the phase-two classifier
SmallestElement = 2             # --smallest-element: mode filter disk radius / 2 in px (0: off)
GACglacier = 1                  # --gac-glacier {0,1}: paint the contoured glacier as glacier ice
OceanRule = "sea"               # --ocean-rule {sea,published}: ocean of the front step: sea = the largest ocean object; published = the published rule
MinSeaContact = 0.5             # --min-sea-contact: smallest front length / glacier width at the front; shorter fronts are refused (0: off)
OutDPI = 400                    # --dpi: resolution of the 4-part figures of each date
ImageScale: float = None        # --image-scale: pixel value of reflectance 1 in floating-point images (1 for reflectance 0-1, 10000 for reflectance x 10 000); float images are refused without it
Precision = "auto"              # --precision {auto,float32,mixed_float16,mixed_bfloat16}: precision of phase-one and phase-two inference (auto: mixed_float16 on NVIDIA GPUs of compute capability 7.0+, mixed_bfloat16 on CPUs with native bfloat16, else float32)
Seed = 0                        # --seed: seed of sampling and phase-two training
Results = ""                    # --results: folder of existing CSC outputs (<stem>_classified.tif) to reuse instead of classifying again
Centreline = ""                 # --centreline: centreline (one LineString; GPKG, shapefile or GeoJSON), ocean end first
Box = ""                        # --box: box of the box method (one Polygon across the front zone, sides along the flow)
Dates = ""                      # --dates: CSV (columns Image, Date YYYY-MM-DD) for images whose tags and name hold no date
Engine = "local"                # --engine {local,ray}: run the per-date CSC here one by one, or in parallel on Ray
Address: str = None             # --address: Ray cluster address (default: a local Ray)
GlacierID = ""                  # --glacier-id: glacier identifier written with every front (as in TermPicks/CALFIN; empty: none, and a warning)
GlacierName = ""                # --glacier-name: glacier name written with every front (optional)
Author = ""                     # --author: Author field of the fronts (empty: SEE_ICE <version>)
FrontCRS = ""                   # --front-crs: projected CRS in metres for the front files, e.g. EPSG:3413 (empty: the images')
Out = "Results/TimeSeries"      # --out: output folder
# ==== END OF USER INPUTS ====

import logging

from seeice.config.runner import run_script

log = logging.getLogger("seeice")


def main(cfg):
    from seeice.sweeps.timeseries import run_time_series

    table = run_time_series(cfg, script="TerminusTimeSeries.py")
    return 0 if table["Front_found"].any() else 1


if __name__ == "__main__":
    run_script(__file__, main)
