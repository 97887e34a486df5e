/**
 * A checkpoint of this project written as a Hugging Face folder, `config.json` +
 * `model.safetensors`, that transformers loads into the family's class with no missing or
 * unexpected keys. Refuses a model whose layout no transformers class has.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { loadValidCheckpoint } from "./checkpoint.js";
import { writeFileDurably, writeFolderAtomically } from "../runtime/checkpoint/checkpoint.js";
import { hfNaming } from "../model/hf/names.js";
import { hfArchitecture } from "../model/hf/family.js";
import { configProblem, hfConfig } from "../model/hf/config.js";
import { weightsToHf } from "../runtime/checkpoint/hf-weights.js";
import { writeSafetensors } from "../runtime/checkpoint/safetensors.js";
import { InputError } from "./input-error.js";
import { asInputErrors } from "./user-errors.js";

const OUR_FILES = new Set(["config.json", "model.safetensors"]);

export interface ExportHfOptions {
  /** A checkpoint folder, or a run folder meaning its latest checkpoint. */
  checkpoint: string;
  /** The Hugging Face folder to write. */
  out: string;
}

export interface ExportHfResult {
  /** The transformers class the folder is for. */
  architecture: string;
  tensors: number;
  /** The checkpoint folder read. */
  from: string;
}

export function exportHf(o: ExportHfOptions): ExportHfResult {
  const ckpt = asInputErrors(() => loadValidCheckpoint(o.checkpoint));
  const model = ckpt.model;
  const naming = hfNaming(model);
  const refuse = (why: string): never => {
    throw new InputError(`cannot export model '${model.name}' as a Hugging Face ${naming.family} checkpoint: ${why}`);
  };
  if (naming.unrepresentable) refuse(naming.unrepresentable);
  const arch = hfArchitecture(model, naming.family);
  if (typeof arch === "string") refuse(arch);
  const { name: architecture, base } = arch as { name: string; base: boolean };
  const problem = configProblem(model, naming.family);
  if (problem) refuse(problem);

  const config = hfConfig(model, naming.family, architecture);
  // Base-model classes (BertModel, …) store their tensors without the class prefix.
  const { entries } = asInputErrors(() => weightsToHf(ckpt.weights, model, { withoutHeads: base }));
  asInputErrors(() =>
    writeFolderAtomically(
      o.out,
      (tmp) => {
        writeSafetensors(path.join(tmp, "model.safetensors"), entries, { format: "pt" });
        writeFileDurably(path.join(tmp, "config.json"), JSON.stringify(config, null, 2) + "\n");
      },
      (existing) => {
        const others = fs.readdirSync(existing).filter((f) => !OUR_FILES.has(f));
        return others.length === 0
          ? null
          : `it holds files other than config.json and model.safetensors (${others.slice(0, 3).join(", ")}${others.length > 3 ? ", …" : ""})`;
      },
    ),
  );
  return { architecture, tensors: entries.length, from: ckpt.dir };
}
