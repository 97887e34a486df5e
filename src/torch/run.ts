/**
 * `bdlc run --engine torch`: the compiled PyTorch module run by the support package
 * (`python3 -m bdl_torch.run`) on files the caller has written into a folder.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { supportPath, torchPython } from "./python.js";

/** Raised when the Python side refuses its input (it exits 1 and says why). */
export class TorchInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TorchInputError";
  }
}

export interface TorchRunFiles {
  /** The folder holding the files below (names relative to it). */
  dir: string;
  module: string;
  weights: string;
  inputs: string;
  teacher?: { module: string; weights: string };
}

/** What the module computed: outputs under Hugging Face's names, and `grad_squares` by table name. */
export type TorchRunOutputs = Record<string, unknown> & { grad_squares?: Record<string, number> };

export function runTorchModule(files: TorchRunFiles): TorchRunOutputs {
  const python = torchPython();
  const at = (name: string) => join(files.dir, name);
  const args = ["-m", "bdl_torch.run", "--module", at(files.module), "--weights", at(files.weights), "--inputs", at(files.inputs)];
  args.push("--out", at("out.json"));
  if (files.teacher) args.push("--teacher-module", at(files.teacher.module), "--teacher-weights", at(files.teacher.weights));
  const result = spawnSync(python.command, args, {
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: [supportPath(), process.env["PYTHONPATH"]].filter(Boolean).join(":") },
    maxBuffer: 64 * 1024 * 1024,
  });
  const said = (result.stderr ?? "").trim();
  if (result.status === 1 && said.startsWith("error: ")) throw new TorchInputError(said.slice("error: ".length));
  if (result.status !== 0)
    throw new Error(
      `internal error: the torch engine failed (exit ${result.status ?? result.signal}):\n${said.split("\n").slice(-20).join("\n")}`,
    );
  return JSON.parse(readFileSync(at("out.json"), "utf8")) as TorchRunOutputs;
}
