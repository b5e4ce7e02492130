"""CompileTensor: compile the tiles of C1..CN into one training tensor and label vector.

All tiles of the class folders C1..C<NClasses> in TrainPath (or in its Train/ subfolder),
optionally a random Subsample of each class, are stacked into OutName_T_<Mode>.npy, shape
(n, TileSize, TileSize, Ndims), with class numbers 1..NClasses in OutName_L_<Mode>.npy.
The arrays are written through memory maps, so the tensor may be larger than memory.
Modes: float16 = I / NormFactor; uint8 = 255 * I / 16384 (8-bit tiles: raw); uint8float16 =
that / 255 as float16; int16 = raw. OutName_<Mode>.json records the mode, the input scale
and the class counts; training stores the scale with the model. OutName_G_<Mode>.npy (int32,
one per tile) numbers the source window of each tile, read from the tile names
<stem>_<row>_<col>_[m]<rot>.tif: all copies of one window share an id, so that training can
keep them on one side of its validation split (tiles with other names: no group file).
Per-class counts are logged and weak classes named.
"""
# ==== USER INPUTS ====
TrainPath = "Data/Tiles/Train"  # --folder: folder holding the C<k> tile folders (or the TilePreparation output)
OutName = "Tensor"            # --name: tensor name (files OutName_T_<Mode>.npy, OutName_L_<Mode>.npy)
OutPath: str = None           # --out: output folder; None = TrainPath
TileSize = 50                 # --tile-size: tile edge in pixels
Ndims = 4                     # --bands: bands per tile (3 = RGB, 4 = RGB + NIR)
NClasses = 7                  # --classes: number of classes (folders C1..C<NClasses>)
Mode = "float16"              # --mode {float16,uint8,uint8float16,int16}: tensor dtype and scaling
NormFactor: float = None      # --norm-factor: float16 divisor; None = 255 for 8-bit tiles, 8192 otherwise
Subsample = 1.0               # --subsample: fraction of each class's tiles to keep (1 = all)
Seed = 0                      # --seed: random seed of the subsample
# ==== END OF USER INPUTS ====

from seeice.config.runner import run_script, script_name
from seeice.phase1.compilation import compile_tensor


def main(cfg):
    compile_tensor(cfg.TrainPath, str(cfg.OutName), out_dir=cfg.OutPath,
                   tile_size=cfg.TileSize, bands=cfg.Ndims, n_classes=cfg.NClasses,
                   mode=cfg.Mode, norm_factor=cfg.NormFactor, subsample=cfg.Subsample,
                   seed=cfg.Seed, run_config=dict(cfg), script=script_name(__file__))


if __name__ == "__main__":
    run_script(__file__, main)
