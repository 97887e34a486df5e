// The torch engine's training throughput on the bench configs: the PyTorch module bdl compiles for
// each (bench/train.mjs's benchModel), stepped by bench/torch_engine.py with the support package's
// optimizer, as `bdlc train --engine torch` steps it. One {"suite":"torch-engine"} row per config.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { emitTorchModule } from "../dist/bundle/api.js";
import { benchModel } from "./train.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Rows for `configs`; [] after one line on stderr when the python has no torch. */
export function runTorchEngineBench(configs, { steps = 10, python, device = "cpu", threads } = {}) {
  const interpreter = python ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
  const dir = mkdtempSync(join(tmpdir(), "bdl-bench-torch-"));
  const rows = [];
  try {
    for (const config of configs) {
      const module = join(dir, `${config}.py`);
      writeFileSync(module, emitTorchModule(benchModel(config), null).text);
      const args = [
        join(ROOT, "bench", "torch_engine.py"),
        "--module",
        module,
        "--config",
        config,
        "--steps",
        String(steps),
        "--device",
        device,
      ];
      if (threads) args.push("--threads", String(threads));
      const r = spawnSync(interpreter, args, {
        encoding: "utf8",
        env: { ...process.env, PYTHONPATH: join(ROOT, "python"), OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? "PASSIVE" },
        timeout: 600_000,
      });
      const line = r.stdout.split("\n").find((l) => l.startsWith("{"));
      if (r.status !== 0 || !line) {
        console.error(
          `bench: the torch engine's bench failed for ${config} (exit ${r.status}): ${r.stderr.trim().split("\n").at(-1) ?? ""}`,
        );
        return rows;
      }
      rows.push(JSON.parse(line));
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
