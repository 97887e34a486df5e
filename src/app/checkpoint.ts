/**
 * Checkpoints as the CLI reads them: the runtime's reader, with the model in `bdl.json` held to
 * the rules `bdlc check` holds a .bdl file to (a hand-edited or foreign checkpoint is refused
 * before its weights are used).
 */
import { modelErrors } from "../compiler/semantics/check.js";
import type { ResolvedModel } from "../model/model.js";
import { loadCheckpoint, type LoadedCheckpoint, type ModelValidator } from "../runtime/checkpoint/checkpoint.js";

const firstRuleBroken: ModelValidator = (model, teacher, label) => modelErrors(model, teacher, label)[0]?.message ?? null;

export function loadValidCheckpoint(p: string, expected?: { model: ResolvedModel; teacher?: ResolvedModel | null }): LoadedCheckpoint {
  return loadCheckpoint(p, expected, firstRuleBroken);
}

export { CheckpointError, type LoadedCheckpoint } from "../runtime/checkpoint/checkpoint.js";
