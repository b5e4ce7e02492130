"""FineTuneCNN: continue training a tile CNN on new data ("joint" fine-tuning).

Loads InitialModel (a .keras model saved by TrainCNN, or a legacy .h5 model), recompiles it
with Adam at a low LearningRate (amsgrad) and trains it on TensorPath / LabelPath, validating on
20 % of the source windows (as TrainCNN), with the same ClassBalance and Select rules, until the
validation Select metric reaches TargetAccuracy, Patience epochs pass without improvement or
Epochs epochs have run. The tensor's tile size, bands and normalisation must match the model's.
Saves the result as OutPath/ModelName.keras with its metadata (copied from the initial model,
with the new training, weak classes and per-class validation recall recorded), the history, a
classification report and run.json. The initial model is left as it is.
"""
# ==== USER INPUTS ====
InitialModel = "Models/VGG16_50_RGBNIR.keras"  # --model: the trained model to continue (.keras or legacy .h5)
TensorPath = "Data/JointTrain/Tensor_T_float16.npy"  # --tensor: tile tensor of the new data (from CompileTensor)
LabelPath = "Data/JointTrain/Tensor_L_float16.npy"   # --labels: class numbers 1..NClasses, one per tile
OutPath = "Models"            # --out: output folder of the fine-tuned model, history, report and run.json
ModelName = "VGG16_50_RGBNIR_joint"  # --name: name of the fine-tuned model (OutPath/ModelName.keras)
LearningRate = 1e-5           # --learning-rate: Adam learning rate (amsgrad)
BatchSize = 25                # --batch-size: tiles per training batch
TargetAccuracy = 0.995        # --target-accuracy: stop at the first epoch whose validation Select metric reaches this
Epochs = 120                  # --epochs: most training epochs
ClassBalance = "weights"      # --class-balance {weights,batches,none}: loss weights by inverse class frequency, class-balanced batches, or none (published)
Select = "macro_f1"           # --select {macro_f1,min_recall,accuracy}: metric that stops training and picks the epoch kept; accuracy without restore is published
Patience = 20                 # --patience: stop after this many epochs without improvement of Select (macro_f1, min_recall)
Split = "group"               # --split {group,random}: validation split by source window (group; random when the tensor has no group file) or at random (published)
Precision = "auto"            # --precision {auto,float32,mixed_float16,mixed_bfloat16}: float precision policy (auto: chosen per machine); a model saved in another is rebuilt in it
Seed = 0                      # --seed: random seed of the split and the shuffling
# ==== END OF USER INPUTS ====

from seeice.config.runner import run_script, script_name


def main(cfg):
    from seeice.phase1.training import fine_tune  # imports TensorFlow: after --help and checks

    fine_tune(cfg.InitialModel, cfg.TensorPath, cfg.LabelPath, cfg.OutPath, str(cfg.ModelName),
              learning_rate=cfg.LearningRate, batch_size=cfg.BatchSize,
              target_accuracy=cfg.TargetAccuracy, epochs=cfg.Epochs, seed=cfg.Seed,
              class_balance=cfg.ClassBalance, select=cfg.Select, patience=cfg.Patience,
              precision=cfg.Precision, split=cfg.Split,
              run_config=dict(cfg), script=script_name(__file__))


if __name__ == "__main__":
    run_script(__file__, main)
