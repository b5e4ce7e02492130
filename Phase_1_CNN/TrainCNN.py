"""TrainCNN: train the phase-one tile CNN on a compiled tile tensor.

A VGG16 base (or DenseNet121 / ResNet50) without its top, from random weights, with a small
dense head, learns to classify tiles of TensorPath (from CompileTensor) by the class numbers in
LabelPath. 20 % of the source windows of each class, drawn with Seed, validate (all copies of a
window on one side; the <name>_G_<mode>.npy beside the tensor says which tile came from which
window; a tensor without it, or Split random (the published split), is split at random, with a
warning that validation reads high). Ndims 3 on a 4-band tensor trains an RGB model on its
first three bands and TileCrop a model of smaller tiles (the published NIR and Tilesize).
ClassBalance weights the loss by inverse class frequency, or draws class-balanced batches.
Every epoch is scored per class on the validation tiles; training stops at the end of the first
epoch whose validation Select metric reaches TargetAccuracy, after Patience epochs without
improvement, or after Epochs epochs, and keeps the best epoch. ClassBalance none and Select
accuracy train as the published scripts did. The tensor is streamed from disk in batches, so it
may be larger than memory. Saves OutPath/ModelName.keras with its metadata (ModelName.meta.json:
classes, bands, tile size, normalisation factor, weak classes and per-class validation recall),
the training history (CSV and figure), a classification report of the validation tiles and
run.json. Every class whose validation recall is under 0.6 is named in a warning, and CSC.py
repeats it.
With --tuning, trains TuningEpochs epochs without the target stop and saves the learning curves
but not the model, to choose the number of epochs. Mixed precision is used on NVIDIA GPUs of
compute capability 7.0 or more (float16) and on CPUs with native bfloat16 (bfloat16; --precision
overrides, --precision float32 forces float32).
"""
# ==== USER INPUTS ====
TensorPath = "Data/Tiles/Train/Tensor_T_float16.npy"  # --tensor: tile tensor (n, tile, tile, bands) from CompileTensor
LabelPath = "Data/Tiles/Train/Tensor_L_float16.npy"   # --labels: class numbers 1..NClasses, one per tile
OutPath = "Models"            # --out: output folder of the model, history, report and run.json
ModelName = "VGG16_50_RGBNIR"  # --name: model name (OutPath/ModelName.keras)
CNNname = "vgg16"             # --base {vgg16,densenet121,resnet50,compact}: convolutional base (compact: small, for quick looks)
Ndims = 4                     # --bands: bands to train on (3 = RGB, 4 = RGB + NIR): the tensor's first Ndims; 3 from a 4-band tensor is the published NIR = False
TileCrop = 0                  # --tile-crop: train on the top-left TileCrop x TileCrop px of every tile, as the published Tilesize did (0: whole tiles)
NClasses = 7                  # --classes: number of classes
BatchSize = 50                # --batch-size: tiles per training batch
Epochs = 120                  # --epochs: most training epochs
TargetAccuracy = 0.985        # --target-accuracy: stop at the first epoch whose validation Select metric reaches this
ModelTuning = False           # --tuning: train TuningEpochs epochs, save the learning curves, no model
TuningEpochs = 50             # --tuning-epochs: epochs of a tuning run
LearningRate: float = None    # --learning-rate: Adam learning rate; None = 1e-4 (VGG16), 1e-5 (DenseNet121, ResNet50)
Precision = "auto"            # --precision {auto,float32,mixed_float16,mixed_bfloat16}: float precision policy (auto: mixed_float16 on NVIDIA GPUs of compute capability 7.0+, mixed_bfloat16 on CPUs with native bfloat16, else float32)
Scheme: str = None            # --scheme: class names: glacier, fluvial or a scheme YAML; None = from the tensor, glacier for 7 classes
ClassBalance = "weights"      # --class-balance {weights,batches,none}: loss weights by inverse class frequency, class-balanced batches, or none (published)
Select = "macro_f1"           # --select {macro_f1,min_recall,accuracy}: metric that stops training and picks the epoch kept; accuracy without restore is published
Patience = 20                 # --patience: stop after this many epochs without improvement of Select (macro_f1, min_recall)
Split = "group"               # --split {group,random}: validation split by source window (group; random when the tensor has no group file) or at random (published)
Seed = 0                      # --seed: random seed of the split, the shuffling and the initial weights
# ==== END OF USER INPUTS ====

from seeice.config.runner import run_script, script_name


def main(cfg):
    from seeice.phase1.training import train_tile_cnn  # imports TensorFlow: after --help and checks

    train_tile_cnn(cfg.TensorPath, cfg.LabelPath, cfg.OutPath, str(cfg.ModelName),
                   base=cfg.CNNname, bands=cfg.Ndims, n_classes=cfg.NClasses,
                   batch_size=cfg.BatchSize, epochs=cfg.Epochs,
                   target_accuracy=cfg.TargetAccuracy, tuning=cfg.ModelTuning,
                   tuning_epochs=cfg.TuningEpochs, precision=cfg.Precision, seed=cfg.Seed,
                   learning_rate=cfg.LearningRate, scheme=cfg.Scheme,
                   class_balance=cfg.ClassBalance, select=cfg.Select, patience=cfg.Patience,
                   tile_crop=cfg.TileCrop, split=cfg.Split,
                   run_config=dict(cfg), script=script_name(__file__))


if __name__ == "__main__":
    run_script(__file__, main)
