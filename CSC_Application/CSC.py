"""CSC: CNN-supervised classification of every image in a folder, with calving fronts.

For each image: the phase-one tile CNN labels its tiles; those labels train a per-image
patch classifier (an MLP for Kernel_size 1, a compact CNN for 3, 5, 7, 15) that labels every
pixel; a mode filter cleans the result; the calving front is found with morphological active
contours; results are scored against SCLS_/EDGE_ companions where they exist. Outputs go to
<ScorePath>_patch<k>/: per-image CNN_/CSC_ report CSVs, OvPdat_ scored pixels, front
distances, a 4-part figure, a class GeoTIFF (PNG for plain images), the front as a GeoPackage
line, summary.csv and run.json.

Edit the user inputs below, or override them with --config file.yaml and flags.
`--demo` makes synthetic Sentinel-2 scenes, trains a small phase-one model if none is cached,
and runs CSC on an unseen scene: no data to download.
"""
# ==== USER INPUTS ====
ModelName = "Models/VGG16_50_RGBNIR.keras"  # --model: trained phase-one model (.keras or legacy .h5)
PredictPath = "Data/Predict"    # --predict: folder of images to classify (companions beside them)
ScorePath = "Results/CSC"       # --out: output prefix; outputs go to <prefix>_patch<k>/
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
PatchModel = "fresh"            # --patch-model {fresh,carried}: phase-two classifier: a fresh one per image, or one carried from image to image (published)
BatchRule = "updates"           # --batch-rule {updates,published}: phase-two batch: int(500000 / k^2) made small enough for 100 updates per epoch, or int(500000 / k^2) (published)
SmallestElement = 2             # --smallest-element: mode filter disk radius / 2 in px (0: off)
GACglacier = 1                  # --gac-glacier {0,1}: paint the contoured glacier as glacier ice
OceanRule = "sea"               # --ocean-rule {sea,published}: ocean of the front step: sea = the largest ocean object; published = the published rule (every ocean object off the frame, plus the largest)
MinSeaContact = 0.5             # --min-sea-contact: smallest front length / glacier width at the front; shorter fronts are refused, with the reason in summary.csv (0: off)
ResizeCompanions = False        # --resize-companions: match SCLS_/EDGE_ rasters on another grid than their image by position, resized by nearest neighbour (published; default: refuse them)
PixelSize: float = None         # --pixel-size: metres per pixel of images without georeferencing (georeferenced images use their own; a PixelSize that disagrees with it is refused)
ImageScale: float = None        # --image-scale: pixel value of reflectance 1 in floating-point images (1 for reflectance 0-1, 10000 for reflectance x 10 000); float images are refused without it
OutDPI = 400                    # --dpi: resolution of the 4-part figures
Precision = "auto"              # --precision {auto,float32,mixed_float16,mixed_bfloat16}: precision of phase-one and phase-two inference (auto: mixed_float16 on NVIDIA GPUs of compute capability 7.0+, mixed_bfloat16 on CPUs with native bfloat16, else float32)
Seed = 0                        # --seed: seed of sampling and phase-two training
GlacierID = ""                  # --glacier-id: glacier identifier written with every front (as in TermPicks/CALFIN; empty: none, and a warning)
GlacierName = ""                # --glacier-name: glacier name written with every front (empty: Glacier)
Author = ""                     # --author: Author field of the fronts (empty: SEE_ICE <version>)
FrontCRS = ""                   # --front-crs: projected CRS in metres for the front files, e.g. EPSG:3413 (empty: the image's)
Validation = ""                 # --validation {seen,unseen,}: phase one was trained on this glacier (seen) or not (unseen), recorded for the results tables (empty: inferred, see Batch/BuildDataFrame.py)
Glacier = ""                    # --glacier: glacier name for the results tables (empty: a Hel/Jak/Sto token of the output folder name)
Demo = False                    # --demo: run the built-in synthetic demo instead (no data needed)
DemoFolder = "demo_output"      # --demo-folder: working folder of the demo
# ==== END OF USER INPUTS ====

import logging

from seeice.config.runner import run_script

log = logging.getLogger("seeice")


def main(cfg):
    if cfg.Demo:
        from seeice.pipeline.demo import run_demo
        run_demo(cfg.DemoFolder, patch_size=cfg.Kernel_size, dpi=cfg.OutDPI, seed=cfg.Seed)
        return 0
    from seeice.pipeline.csc import run_csc
    run = run_csc(cfg, script="CSC.py")
    return 1 if len(run.failed) else 0


if __name__ == "__main__":
    run_script(__file__, main)
