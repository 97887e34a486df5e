/**
 * Launching a prepared torch run (`RUN/torch/plan.json`): one process (`python3 -m
 * bdl_torch.train`) for one rank on one node, else torchrun (`python3 -m
 * torch.distributed.run`) with DDP's ranks. The support package is copied into the run
 * folder, so the launch line needs PyTorch and nothing else, and runs as printed on a
 * machine without Node.js.
 *
 * The ranks run in a process group of their own: a Ctrl-C at the terminal reaches bdlc alone,
 * which asks them to stop by writing `RUN/torch/stop` (each rank looks between steps, and
 * every rank stops after the same step, with a checkpoint). A second Ctrl-C, or bdlc ending,
 * kills the group.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { torchPython } from "./python.js";
import { TorchInputError } from "./run.js";

export interface Distribution {
  /** Processes per node (`--nproc`). */
  nproc: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort: number;
}

export const SINGLE: Distribution = { nproc: 1, nnodes: 1, nodeRank: 0, masterAddr: "127.0.0.1", masterPort: 29500 };

/** The command that runs the prepared run in `runDir`, as argv, and the environment it needs. */
export function launchLine(runDir: string, d: Distribution, python = "python3"): { argv: string[]; env: Record<string, string> } {
  const plan = join(runDir, "torch", "plan.json");
  const env = { PYTHONPATH: join(runDir, "torch"), OMP_NUM_THREADS: String(Math.max(1, Math.floor(cpuCount() / d.nproc))) };
  if (d.nproc === 1 && d.nnodes === 1) return { argv: [python, "-m", "bdl_torch.train", plan], env };
  const argv = [python, "-m", "torch.distributed.run", `--nproc_per_node=${d.nproc}`, `--nnodes=${d.nnodes}`];
  if (d.nnodes > 1) argv.push(`--node_rank=${d.nodeRank}`);
  argv.push(`--master_addr=${d.masterAddr}`, `--master_port=${d.masterPort}`);
  // Debian's torchrun on Python 3.11 fails unless the workers' streams go to files (a known upstream bug).
  argv.push("--redirects=2", "--tee=1", `--log_dir=${join(runDir, "torch", "logs")}`);
  argv.push("-m", "bdl_torch.train", plan);
  return { argv, env };
}

function cpuCount(): number {
  return Math.max(1, cpus().length);
}

/** A line the ranks print (rank 0 only) as JSON. */
export type TrainEvent =
  | { event: "message"; text: string }
  | { event: "progress"; step: number; steps: number; loss: number; tokens_per_s: number; eta: number }
  | { event: "done"; [key: string]: unknown };

/**
 * Runs the prepared run, calling `onEvent` for each line of progress; `shouldStop` is polled.
 * Resolves when the ranks end cleanly, having trained or stopped after a step (their
 * summary.json says which).
 */
export function runPreparedTraining(
  runDir: string,
  d: Distribution,
  onEvent: (e: TrainEvent) => void,
  shouldStop: () => boolean,
): Promise<void> {
  const python = torchPython();
  const { argv, env } = launchLine(runDir, d, python.command);
  const stopFile = join(runDir, "torch", "stop");
  rmSync(stopFile, { force: true });
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const killGroup = () => {
      try {
        if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    process.once("exit", killGroup);
    let stderr = "";
    let pending = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        // torchrun's --tee prefixes each line with the worker's name.
        const text = line.replace(/^\[[^\]]*\]:/, "").trim();
        if (!text.startsWith("{")) continue;
        try {
          onEvent(JSON.parse(text) as TrainEvent);
        } catch {
          // not one of ours
        }
      }
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-64_000);
    });
    const poll = setInterval(() => {
      if (shouldStop() && !existsSync(stopFile)) writeFileSync(stopFile, "stop\n");
    }, 100);
    child.on("error", (e) => {
      clearInterval(poll);
      process.removeListener("exit", killGroup);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearInterval(poll);
      process.removeListener("exit", killGroup);
      if (code === 0) return resolve();
      const said = [stderr, workerLogs(join(runDir, "torch", "logs"))].join("\n");
      const error = /^error: (.*)$/m.exec(said);
      if (error) return reject(new TorchInputError(error[1]!));
      reject(
        new Error(`internal error: the torch engine failed (exit ${code ?? signal}):\n${said.trim().split("\n").slice(-25).join("\n")}`),
      );
    });
  });
}

/** The newest attempt's workers' stderr under torchrun's --log_dir, for a failure's message. */
function workerLogs(dir: string): string {
  if (!existsSync(dir)) return "";
  const found: { path: string; time: number }[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name === "stderr.log") found.push({ path: p, time: statSync(p).mtimeMs });
    }
  };
  walk(dir);
  const newest = Math.max(...found.map((f) => f.time));
  return found
    .filter((f) => f.time >= newest - 60_000)
    .map((f) => readFileSync(f.path, "utf8"))
    .join("\n");
}
