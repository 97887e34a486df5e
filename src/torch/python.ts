/**
 * The Python that runs the torch engine: the first of `$BDL_PYTHON`, `python3` on the PATH and
 * Debian's `/usr/bin/python3` that imports torch, and the support package it is given
 * (`python/bdl_torch`, shipped beside the compiler).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export class TorchMissing extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TorchMissing";
  }
}

export interface TorchPython {
  /** The interpreter, as it is run. */
  command: string;
  /** `torch.__version__`. */
  torch: string;
}

let found: TorchPython | null = null;

/** The interpreter to run the engine with; throws TorchMissing naming what to install. */
export function torchPython(env: NodeJS.ProcessEnv = process.env): TorchPython {
  if (found) return found;
  const chosen = env["BDL_PYTHON"];
  const candidates = chosen ? [chosen] : ["python3", "/usr/bin/python3"];
  const tried: string[] = [];
  for (const command of candidates) {
    const probe = spawnSync(command, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8", timeout: 120_000 });
    if (probe.status === 0) return (found = { command, torch: probe.stdout.trim() });
    tried.push(probe.error ? `${command} (not found)` : `${command} (no torch)`);
  }
  throw new TorchMissing(
    `the torch engine needs PyTorch, and no Python here imports it (tried ${tried.join(", ")}): ` +
      "install it with `apt-get install python3-torch` (Debian) or `pip install torch`" +
      (chosen ? "" : ", or set BDL_PYTHON to a Python that has it"),
  );
}

/** The folder holding the support package `bdl_torch`: `python/` at the top of the bdl package. */
export function supportPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "python", "bdl_torch", "__init__.py"))) return join(dir, "python");
    const parent = dirname(dir);
    if (parent === dir) throw new Error("internal error: the torch engine's support package (python/bdl_torch) is missing");
    dir = parent;
  }
}
