/** The torch engine: PyTorch modules compiled by bdl, run by its support package (`python/bdl_torch`). */
export { runTorchModule, TorchInputError, type TorchRunFiles, type TorchRunOutputs } from "./run.js";
export { supportPath, torchPython, TorchMissing, type TorchPython } from "./python.js";
export { launchLine, runPreparedTraining, SINGLE, type Distribution, type TrainEvent } from "./train.js";
