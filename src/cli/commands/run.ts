/**
 * `bdlc run MODEL --weights W --inputs IN.json [--teacher-weights T] [--out OUT.json]`: one
 * forward pass on explicit inputs (and, with labels, the loss and one backward pass), for
 * debugging and for checking against other implementations. The files are described in
 * spec/cli.md ("`bdlc run` files").
 */
import { existsSync } from "node:fs";
import { loadValidCheckpoint } from "../../app/checkpoint.js";
import { isCheckpointPath } from "../../runtime/checkpoint/checkpoint.js";
import type { WeightMap } from "../../runtime/checkpoint/hf-weights.js";
import { parameterTable } from "../../model/parameters.js";
import { checkRunInputs, runOnce, RunInputError } from "../../runtime/run.js";
import { loadGraph } from "../../app/graph-loader.js";
import type { ResolvedModel } from "../../model/model.js";
import {
  loadModelRef, parseFlags, requirePositionals, startBackend, UsageError, writeAtomically, type Command,
} from "./command.js";
import { isHfFolder, readHfFolder, readJsonFile, userErrors } from "./import-hf.js";

const help = `Usage: bdlc run MODEL --weights W --inputs IN.json [--teacher-weights T] [--out OUT.json] [--backend B]

One forward pass on explicit inputs and, where labels are given, the loss and one backward
pass. MODEL is FILE.bdl[:NAME] (NAME may be left out when the file declares one model).

IN.json uses Hugging Face's argument names: input_ids, attention_mask, token_type_ids,
labels (-100 = not predicted), next_sentence_label or sentence_order_label, and
teacher_input_ids where the teacher's ids differ. OUT.json holds last_hidden_state,
hidden_states, pooler_output, mlm_logits, nsp_logits or sop_logits as they apply; with
labels also loss, loss_terms and grad_norms (keyed by Hugging Face parameter names).

Options:
  --weights W          a checkpoint of this project (or a train --out run folder), or a
                       Hugging Face folder (config.json + model.safetensors)
  --inputs IN.json     the inputs
  --teacher-weights T  the teacher's weights (same kinds as W), for distillation losses
  --out OUT.json       write the outputs there (atomically) instead of to stdout
  --backend B          cpu (default: the reference, pure JavaScript), native, wasm,
                       webgpu, tensorflow or auto — to compare a backend with it`;

/** W or T: a checkpoint of this project or a Hugging Face folder, checked against `model`. */
function loadWeights(flag: string, p: string, model: ResolvedModel, teacher: ResolvedModel | null): WeightMap {
  let weights: WeightMap;
  if (isCheckpointPath(p)) {
    weights = userErrors(() => loadValidCheckpoint(p, { model, teacher })).weights;
  } else if (isHfFolder(p)) {
    weights = readHfFolder(p, model);
  } else if (!existsSync(p)) {
    throw new UsageError(`${flag} ${p}: no such folder`);
  } else {
    throw new UsageError(
      `${flag} ${p} is neither a checkpoint of this project (a folder with bdl.json, or a run folder with checkpoints/) nor a Hugging Face folder (config.json + model.safetensors)`,
    );
  }
  const lacking = parameterTable(model, teacher).filter((spec) => !weights.has(spec.name));
  if (lacking.length > 0) {
    throw new UsageError(`${flag} ${p} has no value for ${lacking.map((s) => `'${s.name}'`).join(", ")} of model '${model.name}'`);
  }
  return weights;
}

export const run: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      { weights: { type: "string" }, inputs: { type: "string" }, "teacher-weights": { type: "string" }, out: { type: "string" }, backend: { type: "string" } },
      help,
    );
    requirePositionals(positionals, 1, 1, "MODEL", help);
    if (values.weights === undefined) throw new UsageError(`missing --weights W.\n\n${help}`);
    if (values.inputs === undefined) throw new UsageError(`missing --inputs IN.json.\n\n${help}`);
    const chosen = loadModelRef(positionals[0]!, io);
    if (!chosen) return 1;
    const { model, teacher: teacherModel } = chosen;
    const teacherPath = values["teacher-weights"];
    if (teacherPath !== undefined && !teacherModel) throw new UsageError(`model '${model.name}' has no teacher, so --teacher-weights has nothing to load`);

    const inputsPath = values.inputs;
    const inputs = userErrors(() => checkRunInputs(readJsonFile(inputsPath, "inputs"), inputsPath), [RunInputError]);
    const weights = loadWeights("--weights", values.weights, model, teacherModel);
    const teacherWeights = teacherPath !== undefined && teacherModel ? loadWeights("--teacher-weights", teacherPath, teacherModel, null) : null;

    await startBackend(await import("../../runtime/backends/backend.js"), values.backend ?? "cpu");
    const loaded = await loadGraph(model, teacherModel);
    const teacher = teacherWeights && loaded.teacher ? { graph: loaded.teacher, weights: teacherWeights } : null;
    const result = userErrors(() => runOnce({ graph: loaded.graph, weights }, inputs, teacher), [RunInputError]);
    const text = JSON.stringify(result) + "\n";
    if (values.out !== undefined) {
      writeAtomically(values.out, text);
      io.out(`wrote ${values.out}${typeof result["loss"] === "number" ? ` (loss ${result["loss"]})` : ""}`);
    } else {
      io.out(text);
    }
    return 0;
  },
};
