"""ThinTiles: keep at most NumberPerClass tiles in every class folder, removing the excess at random.

TilePath is the output folder of TilePreparation (its Train/ is thinned; Valid/ is left
alone) or a folder holding the C<k> class folders itself. Classes with more tiles than
NumberPerClass lose a seeded random excess so that each keeps exactly NumberPerClass;
smaller classes are left as they are. With --dry-run nothing is deleted and the counts
before and after are only reported. A real run records itself in thinning_run.json.
"""
# ==== USER INPUTS ====
TilePath = "Data/Tiles"       # --folder: folder holding C<k> class folders, or the TilePreparation output (its Train/)
NumberPerClass = 5000         # --per-class: tiles each class keeps
Seed = 0                      # --seed: random seed of the choice of tiles removed
DryRun = False                # --dry-run: only report what would be removed
# ==== END OF USER INPUTS ====

from seeice.config.runner import run_script, script_name
from seeice.phase1.thinning import thin_tiles


def main(cfg):
    thin_tiles(cfg.TilePath, per_class=cfg.NumberPerClass, seed=cfg.Seed, dry_run=cfg.DryRun,
               run_config=dict(cfg), script=script_name(__file__))


if __name__ == "__main__":
    run_script(__file__, main)
