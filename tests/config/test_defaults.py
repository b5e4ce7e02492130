"""Every script header shows the library's default (seeice.defaults), so the two never drift apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from seeice import defaults as D
from seeice.config.inputs import parse_header
from seeice.phase1.thinning import thin_tiles
from seeice.phase1.tiling import window_starts
from seeice.phase2.sampling import sample_windows
from seeice.pipeline.csc import CSCSettings

ROOT = Path(__file__).resolve().parents[2]

#: (script, header name) -> the library default it must show.
HEADER_DEFAULTS = {
    ("CSC_Application/CSC.py", "ScorePath"): D.OUTPUT_PREFIX,
    ("CSC_Application/CSC.py", "Experiment"): D.EXPERIMENT,
    ("CSC_Application/CSC.py", "Ndims"): D.BANDS,
    ("CSC_Application/CSC.py", "Kernel_size"): D.PATCH_SIZE,
    ("CSC_Application/CSC.py", "size"): D.TILE_SIZE,
    ("CSC_Application/CSC.py", "CNNsamples"): D.SAMPLES_PER_CLASS,
    ("CSC_Application/CSC.py", "MemoryBudgetMB"): D.MEMORY_BUDGET_MB,
    ("CSC_Application/CSC.py", "Patience"): D.PATIENCE,
    ("CSC_Application/CSC.py", "TrainingEpochs"): D.TRAINING_EPOCHS,
    ("CSC_Application/CSC.py", "SmallestElement"): D.SMALLEST_ELEMENT,
    ("CSC_Application/CSC.py", "OutDPI"): D.FIGURE_DPI,
    ("CSC_Application/CSC.py", "Seed"): D.SEED,
    ("CSC_Application/CSC.py", "Precision"): D.PRECISION,
    ("Phase_1_CNN/TrainCNN.py", "Precision"): D.PRECISION,
    ("CSC_Application/CSC.py", "OceanRule"): D.OCEAN_RULE,
    ("CSC_Application/CSC.py", "ResizeCompanions"): D.RESIZE_COMPANIONS,
    ("Batch/CSC_Batch.py", "MaxRetries"): D.MAX_RETRIES,
    ("Phase_1_CNN/TilePreparation.py", "ResizeCompanions"): D.RESIZE_COMPANIONS,
    ("CSC_Application/CSC.py", "MinSeaContact"): D.MIN_SEA_CONTACT,
    ("CSC_Application/CSC.py", "PixelSize"): D.PIXEL_SIZE,
    ("CSC_Application/CSC.py", "ImageScale"): D.IMAGE_SCALE,
    ("Phase_1_CNN/TilePreparation.py", "ImageScale"): D.IMAGE_SCALE,
    ("CSC_Application/CSC.py", "GlacierID"): D.GLACIER_ID,
    ("CSC_Application/CSC.py", "GlacierName"): D.GLACIER_NAME,
    ("CSC_Application/CSC.py", "Author"): D.AUTHOR,
    ("CSC_Application/CSC.py", "FrontCRS"): D.FRONT_CRS,
    ("CSC_Application/CSC.py", "Validation"): D.VALIDATION,
    ("CSC_Application/CSC.py", "PatchModel"): D.PATCH_MODEL,
    ("CSC_Application/CSC.py", "BatchRule"): D.BATCH_RULE,
    ("CSC_Application/CSC.py", "Glacier"): D.GLACIER,
    ("Phase_1_CNN/TilePreparation.py", "TileSize"): D.TILE_SIZE,
    ("Phase_1_CNN/TilePreparation.py", "Stride"): D.STRIDE,
    ("Phase_1_CNN/TilePreparation.py", "Augment"): D.AUGMENTATION,
    ("Phase_1_CNN/TilePreparation.py", "RareClassTiles"): D.RARE_CLASS_TILES,
    ("Phase_1_CNN/TilePreparation.py", "RareStride"): D.RARE_STRIDE,
    ("Phase_1_CNN/TilePreparation.py", "Radiometric"): D.RADIOMETRIC,
    ("Phase_1_CNN/CompileTensor.py", "TileSize"): D.TILE_SIZE,
    ("Phase_1_CNN/CompileTensor.py", "Ndims"): D.BANDS,
    ("Phase_1_CNN/CompileTensor.py", "NClasses"): D.N_CLASSES,
    ("Phase_1_CNN/ThinTiles.py", "NumberPerClass"): D.TILES_PER_CLASS,
    ("Phase_1_CNN/TrainCNN.py", "Ndims"): D.BANDS,
    ("Phase_1_CNN/TrainCNN.py", "NClasses"): D.N_CLASSES,
    ("Phase_1_CNN/TrainCNN.py", "BatchSize"): D.BATCH_SIZE,
    ("Phase_1_CNN/TrainCNN.py", "Epochs"): D.MAX_EPOCHS,
    ("Phase_1_CNN/TrainCNN.py", "TargetAccuracy"): D.TARGET_ACCURACY,
    ("Phase_1_CNN/TrainCNN.py", "TuningEpochs"): D.TUNING_EPOCHS,
    ("Phase_1_CNN/TrainCNN.py", "ClassBalance"): D.CLASS_BALANCE,
    ("Phase_1_CNN/TrainCNN.py", "Select"): D.SELECT,
    ("Phase_1_CNN/TrainCNN.py", "Patience"): D.PHASE_ONE_PATIENCE,
    ("Phase_1_CNN/TrainCNN.py", "TileCrop"): D.TILE_CROP,
    ("Phase_1_CNN/TrainCNN.py", "Split"): D.SPLIT,
    ("Phase_1_CNN/FineTuneCNN.py", "Split"): D.SPLIT,
    ("Phase_1_CNN/FineTuneCNN.py", "Precision"): D.PRECISION,
    ("Phase_1_CNN/FineTuneCNN.py", "ClassBalance"): D.CLASS_BALANCE,
    ("Phase_1_CNN/FineTuneCNN.py", "Select"): D.SELECT,
    ("Phase_1_CNN/FineTuneCNN.py", "Patience"): D.PHASE_ONE_PATIENCE,
    ("Phase_1_CNN/FineTuneCNN.py", "LearningRate"): D.FINE_TUNE_LEARNING_RATE,
    ("Phase_1_CNN/FineTuneCNN.py", "BatchSize"): D.FINE_TUNE_BATCH_SIZE,
    ("Phase_1_CNN/FineTuneCNN.py", "TargetAccuracy"): D.FINE_TUNE_TARGET_ACCURACY,
    ("Phase_1_CNN/FineTuneCNN.py", "Epochs"): D.FINE_TUNE_MAX_EPOCHS,
    ("Batch/BuildDataFrame.py", "Subsample"): D.SUBSAMPLE_PIXELS,
    ("Batch/TerminusTimeSeries.py", "Experiment"): D.EXPERIMENT,
    ("Batch/TerminusTimeSeries.py", "TrainingEpochs"): D.TRAINING_EPOCHS,
    ("Batch/TerminusTimeSeries.py", "ImageScale"): D.IMAGE_SCALE,
    ("Batch/TerminusTimeSeries.py", "Precision"): D.PRECISION,
    ("Batch/TerminusTimeSeries.py", "Ndims"): D.BANDS,
    ("Batch/TerminusTimeSeries.py", "Kernel_size"): D.PATCH_SIZE,
    ("Batch/TerminusTimeSeries.py", "size"): D.TILE_SIZE,
    ("Batch/TerminusTimeSeries.py", "CNNsamples"): D.SAMPLES_PER_CLASS,
    ("Batch/TerminusTimeSeries.py", "MemoryBudgetMB"): D.MEMORY_BUDGET_MB,
    ("Batch/TerminusTimeSeries.py", "Patience"): D.PATIENCE,
    ("Batch/TerminusTimeSeries.py", "SmallestElement"): D.SMALLEST_ELEMENT,
    ("Batch/TerminusTimeSeries.py", "OceanRule"): D.OCEAN_RULE,
    ("Batch/TerminusTimeSeries.py", "MinSeaContact"): D.MIN_SEA_CONTACT,
    ("Batch/TerminusTimeSeries.py", "OutDPI"): D.FIGURE_DPI,
    ("Batch/TerminusTimeSeries.py", "Seed"): D.SEED,
    ("Batch/TerminusTimeSeries.py", "Engine"): D.ENGINE,
    ("Batch/TerminusTimeSeries.py", "Out"): D.TIME_SERIES_OUTPUT,
    ("Batch/TerminusTimeSeries.py", "GlacierID"): D.GLACIER_ID,
    ("Batch/TerminusTimeSeries.py", "GlacierName"): D.GLACIER_NAME,
    ("Batch/TerminusTimeSeries.py", "Author"): D.AUTHOR,
    ("Batch/TerminusTimeSeries.py", "FrontCRS"): D.FRONT_CRS,
    ("Batch/ErrorHistogram.py", "BinM"): D.HISTOGRAM_BIN_M,
    ("Batch/ErrorHistogram.py", "ModeBin"): D.MODE_BIN_M,
    ("Batch/BuildDataFrame.py", "ModeBin"): D.MODE_BIN_M,
    ("Batch/FolderF1.py", "Subsample"): D.FOLDER_SUBSAMPLE_PIXELS,
    ("Batch/ErrorHistogram.py", "Catastrophic"): D.CATASTROPHIC_ERROR_M,
    ("Preparation/MakeComposite.py", "OutFolder"): D.COMPOSITE_FOLDER,
    ("Preparation/MakeComposite.py", "MaskSCL"): list(D.SCL_MASK_CLASSES),
    ("Preparation/MakeComposite.py", "KeepRawDN"): not D.HARMONISE_DN,
    ("Preparation/RasteriseLabels.py", "Field"): D.LABEL_FIELD,
}


def _header(script: str) -> dict:
    _, specs = parse_header((ROOT / script).read_text(encoding="utf-8"), origin=script)
    return {s.name: s.default for s in specs}


@pytest.mark.parametrize("script,name", sorted(HEADER_DEFAULTS), ids=lambda v: str(v))
def test_header_shows_the_library_default(script, name):
    header = _header(script)
    assert name in header, f"{script} has no user input {name}"
    assert header[name] == HEADER_DEFAULTS[(script, name)]


def test_csc_settings_from_an_empty_config_are_the_defaults():
    settings = CSCSettings.from_config({})
    assert str(settings.out_prefix) == D.OUTPUT_PREFIX
    assert (settings.patch_size, settings.tile_size, settings.samples_per_class, settings.bands,
            settings.patience, settings.smallest_element, settings.dpi, settings.memory_budget_mb,
            settings.max_epochs) \
        == (D.PATCH_SIZE, D.TILE_SIZE, D.SAMPLES_PER_CLASS, D.BANDS, D.PATIENCE,
            D.SMALLEST_ELEMENT, D.FIGURE_DPI, D.MEMORY_BUDGET_MB, D.TRAINING_EPOCHS)


def test_library_functions_use_the_declared_defaults():
    import inspect

    assert inspect.signature(sample_windows).parameters["samples_per_class"].default \
        == D.SAMPLES_PER_CLASS
    assert inspect.signature(thin_tiles).parameters["per_class"].default == D.TILES_PER_CLASS
    # a 100 px edge with the default 50 px tiles and 25 px stride: windows at 0, 25, 50
    assert list(window_starts(100)) == [0, 25, 50]
