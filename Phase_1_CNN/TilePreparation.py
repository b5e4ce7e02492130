"""TilePreparation: cut pure, augmented training tiles from images and their class rasters.

For every image in TrainPath with an SCLS_<image stem> class raster beside it, the image
and class raster are cropped to whole tiles, a TileSize window slides with step Stride, and
each window with at most 10 % unlabelled pixels and at least 95 % of one class is kept with
that class as its label. Classes with fewer than RareClassTiles tiles are cut again at the
denser RareStride, so that rare classes such as a thin melange belt get more windows. Each
kept tile is written with its symmetric copies (Augment: dihedral = the 8 symmetries of the
square; rotations = the published tile plus 90, 180 and 270 degree rotations; copies with
integer noise in [-10, 10), clipped) to OutPath/Train/C<k>/ as GeoTIFFs, a ValidFraction of
them to OutPath/Valid/C<k>/, named <stem>_<row>_<col>_<rot>.tif (mirrored copies
_m<rot>). Per-class counts are logged and weak classes named. With --tensor NAME the tiles go
straight into compiled tensors (NAME_T_<mode>.npy, NAME_L_<mode>.npy and the source-window
groups NAME_G_<mode>.npy in OutPath) instead of files.
Images without a class raster are skipped with a warning. Windows touching no-data (declared
nodata, masks, NaN, 0 in every band; 0 in any band of Sentinel-2 data) are never tiles. Images
in a geographic CRS (degrees) are refused: reproject them to UTM first. Floating-point images
need ImageScale. The resolved inputs are saved in OutPath/run.json.
"""
# ==== USER INPUTS ====
TrainPath = "Data/Train"      # --images: folder of training images, each with its SCLS_ class raster
OutPath = "Data/Tiles"        # --out: output folder (tiles in OutPath/Train/C<k>/ and OutPath/Valid/C<k>/)
TileSize = 50                 # --tile-size: tile edge in pixels
Stride = 25                   # --stride: step between tile windows in pixels
ValidFraction = 0.0           # --valid-fraction: fraction of tiles (with their rotations) put in Valid/
Seed = 0                      # --seed: random seed of the validation split and the noise
Ndims: int = None             # --bands: keep the first N bands (3 = RGB, 4 = RGB + NIR); None = all
TensorName: str = None        # --tensor: write tensors NAME_T_<mode>.npy/NAME_L_<mode>.npy (groups NAME_G_<mode>.npy) instead of tile files
Mode = "float16"              # --mode {float16,uint8,uint8float16,int16}: tensor dtype (with --tensor)
NormFactor: float = None      # --norm-factor: float16 divisor (with --tensor); None = 255 for 8-bit, 8192 otherwise
NClasses: int = None          # --classes: class count recorded in the tensor (with --tensor); None = largest found
Augment = "dihedral"          # --augment {dihedral,rotations}: copies of each tile: dihedral = 4 rotations x mirror (8); rotations = the published tile + 90/180/270 rotations (4)
RareClassTiles = 500          # --rare-tiles: classes with fewer tiles (copies included) at Stride are cut again at RareStride (0: off, as published)
RareStride = 10               # --rare-stride: step between windows of rare classes in pixels (used when smaller than Stride)
ResizeCompanions = False      # --resize-companions: match SCLS_ rasters on another grid than their image by position, resized by nearest neighbour (published; default: refuse them)
Radiometric = 0.0             # --radiometric: per-copy gain in [1-r, 1+r] and offset in [-r, r] x 5 % of full scale (10000 DN; 8-bit: 255), clipped, no-data kept (0: off)
ImageScale: float = None      # --image-scale: pixel value of reflectance 1 in floating-point images (1 for reflectance 0-1, 10000 for reflectance x 10 000); float images are refused without it and converted to uint16 DN with it
# ==== END OF USER INPUTS ====

from seeice.config.runner import run_script, script_name
from seeice.phase1.preparation import prepare_tiles


def main(cfg):
    prepare_tiles(cfg.TrainPath, cfg.OutPath, tile_size=cfg.TileSize, stride=cfg.Stride,
                  valid_fraction=cfg.ValidFraction, seed=cfg.Seed, bands=cfg.Ndims,
                  tensor_name=None if cfg.TensorName is None else str(cfg.TensorName),
                  tensor_mode=cfg.Mode, norm_factor=cfg.NormFactor, n_classes=cfg.NClasses,
                  augmentation=cfg.Augment, rare_class_tiles=cfg.RareClassTiles,
                  rare_stride=cfg.RareStride, radiometric=cfg.Radiometric,
                  resize_companions=cfg.ResizeCompanions,
                  image_scale=cfg.ImageScale, run_config=dict(cfg), script=script_name(__file__))


if __name__ == "__main__":
    run_script(__file__, main)
