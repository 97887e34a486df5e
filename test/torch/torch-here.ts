/**
 * Whether the torch engine can run here. Where PyTorch is absent the torch tests are skipped,
 * saying so, except in CI, which installs it (`.ci/run`): there they run, and fail without it.
 */
import { torchPython } from "../../src/torch/index.js";

function probe(): boolean {
  try {
    torchPython();
    return true;
  } catch {
    return false;
  }
}

export const torchHere = probe();
export const skipTorch = !torchHere && !process.env["CI"];
if (skipTorch) console.warn("PyTorch is not installed here (apt-get install python3-torch): the torch engine's tests are skipped");
