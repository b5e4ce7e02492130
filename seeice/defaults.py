"""Every default of the workflow, declared once (DESIGN sections 4 to 6).

The library's settings read these; each script's block of user inputs shows the same values
for users to edit (``tests/config/test_defaults.py`` checks that they agree). Names here are
the library's (``patch_size``, ``tile_size``, ``bands``); the published names (``Kernel_size``,
``size``, ``Ndims``, ``PatchSize``, ``Dims``) appear only in script headers and jobs CSVs.
"""

# ---- Phase one: training tiles
TILE_SIZE = 50                  #: tile edge in pixels
STRIDE = 25                     #: step between tile windows in pixels
BANDS = 4                       #: R, G, B, NIR
N_CLASSES = 7                   #: classes of the glacier scheme
TILES_PER_CLASS = 5000          #: thinning keeps at most this many tiles per class
AUGMENTATION = "dihedral"       #: copies of each window: "dihedral" (8) or "rotations" (4, published)
RARE_CLASS_TILES = 500          #: a class with fewer tiles at the common stride is cut again ...
RARE_STRIDE = 10                #: ... at this denser stride (0 tiles: off, as published)
RADIOMETRIC = 0.0               #: gain +/- r, offset +/- r x 5 % of full scale per copy (0: off)

# ---- Phase one: the tile CNN
BATCH_SIZE = 50                 #: tiles per training batch
MAX_EPOCHS = 120                #: most training epochs
TARGET_ACCURACY = 0.985         #: stop at the first epoch whose validation accuracy reaches it
TUNING_EPOCHS = 50              #: epochs of a tuning run
CLASS_BALANCE = "weights"       #: "weights" (inverse class frequency), "batches" or "none" (published)
SELECT = "macro_f1"             #: best epoch by "macro_f1", "min_recall" or "accuracy" (published)
PHASE_ONE_PATIENCE = 20         #: epochs without improvement before phase one stops
TILE_CROP = 0                   #: train on the top-left crop of every tile (0: whole tiles)
PRECISION = "auto"              #: float precision policy of training (chosen per machine)
SPLIT = "group"                 #: validation split: "group" (by source window) or "random" (published)
FINE_TUNE_BATCH_SIZE = 25       #: fine-tuning batch
FINE_TUNE_TARGET_ACCURACY = 0.995
FINE_TUNE_LEARNING_RATE = 1e-5
FINE_TUNE_MAX_EPOCHS = 120

# ---- Phase two: CNN-supervised classification
PATCH_SIZE = 7                  #: k of the phase-two classifier (1, 3, 5, 7 or 15)
SAMPLES_PER_CLASS = 500_000     #: training windows per class (CNNsamples)
PATIENCE = 10                   #: early-stopping patience (50 suits k = 1)
TRAINING_EPOCHS = 300           #: most phase-two training epochs (TrainingEpochs)
SMALLEST_ELEMENT = 2            #: mode filter disk radius / 2, pixels (0: off)
MEMORY_BUDGET_MB = 1024         #: working memory of row-block inference
FIGURE_DPI = 400                #: resolution of the 4-part figures
OUTPUT_PREFIX = "Results/CSC"   #: outputs go to <prefix>_patch<k>/
EXPERIMENT = "CSC"              #: experiment name (k<k> is appended)
RESIZE_COMPANIONS = False       #: match companions on another grid by position (published), not refuse
OCEAN_RULE = "sea"              #: ocean for the front: "sea" (largest ocean object) or "published"
MIN_SEA_CONTACT = 0.5           #: smallest front length / glacier width at the front (0: off)
PATCH_MODEL = "fresh"           #: phase-two model: "fresh" per image, or "carried" image to image (published)
BATCH_RULE = "updates"          #: phase-two batch: int(500000/k^2) with >= 100 updates per epoch, or "published"
VALIDATION = ""                 #: "seen" / "unseen" for the results tables ("": inferred)
GLACIER = ""                    #: glacier name for the results tables ("": from the folder name)
PIXEL_SIZE = None               #: metres per pixel of images without georeferencing (None: pixels)

# ---- Images
IMAGE_SCALE = None              #: pixel value of reflectance 1 in float images (required for them)

# ---- Fronts in the terminus schema (CALFIN / TermPicks fields)
GLACIER_ID = ""                 #: glacier identifier written with every front (empty: none, warned)
GLACIER_NAME = ""               #: glacier name written with every front (optional)
AUTHOR = ""                     #: Author field of fronts (empty: "SEE_ICE <version>")
FRONT_CRS = ""                  #: CRS fronts are written in (empty: the image's)

# ---- Terminus time series
TIME_SERIES_OUTPUT = "Results/TimeSeries"  #: output folder of TerminusTimeSeries
ENGINE = "local"                #: sweep engine: "local" (one job after another) or "ray"

# ---- Results
SUBSAMPLE_PIXELS = 10_000_000   #: pixels per run pooled for F1 (published)
FOLDER_SUBSAMPLE_PIXELS = 1_000_000  #: pixels pooled for one run's per-class report (published)
HISTOGRAM_BIN_M = 10.0          #: bin width of front-error histograms, metres
MODE_BIN_M = 10.0               #: the Mode of distances is taken in bins of this (0: exact, published)
CATASTROPHIC_ERROR_M = 1000.0   #: a front error over this is catastrophic (published)

PRECISION = "auto"              #: CNN precision policy: "auto" (from the hardware), "float32", ...

# ---- Sweeps
MAX_RETRIES = 0                 #: times Ray may rerun a job whose worker died (0: report it failed)

SEED = 0                        #: seed of every random step unless given

# ---- Sentinel-2 products in (MakeComposite, RasteriseLabels)
COMPOSITE_FOLDER = "Data/Composites"    #: where MakeComposite writes its composites
SCL_MASK_CLASSES = (0, 1, 3, 8, 9, 10)  #: SCL classes masked (11, snow and ice, never is)
HARMONISE_DN = True             #: add the declared offsets of baseline 04.00 and later
LABEL_FIELD = "class"           #: class field of the polygons RasteriseLabels reads
