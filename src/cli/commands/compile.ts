/** `bdlc compile [FILE…] [--out DIR]`: one typed TypeScript training graph per model. */
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { emitGraph } from "../../compiler/emit/emit.js";
import { emitTorchModule } from "../../compiler/emit/torch.js";
import type { ResolvedModel } from "../../model/model.js";
import { generatorModel } from "../../model/generator.js";
import { ParseCache } from "../../compiler/semantics/program.js";
import { loadChecked, parseFlags, selectModels, teacherOf, writeAtomically, UsageError, type Command } from "./command.js";

const help = `Usage: bdlc compile [FILE…] [--out DIR] [--target tfjs|torch]

Emit one typed TypeScript module per model: its resolved config, parameter table, typed
inputs and outputs, forward pass, objectives, loss and trainStep. A model's teacher is
compiled too, and so is a generator (ELECTRA), as NAME.generator.ts. Without FILE, compiles every model under models/.
With --target torch, one PyTorch module per model instead (NAME.py: the parameter table
under the same names, the layers, the heads and the loss; a generator inside its model's).

Options:
  --out DIR        where to write the modules (default: build)
  --target T       tfjs (default: TypeScript graphs for TensorFlow.js) or torch (PyTorch)`;

const TARGETS = ["tfjs", "torch"] as const;

export const compile: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { out: { type: "string" }, target: { type: "string" } }, help);
    const target = values.target ?? "tfjs";
    if (!(TARGETS as readonly string[]).includes(target))
      throw new UsageError(`--target must be one of ${TARGETS.join(", ")}, not '${target}'.\n\n${help}`);
    const files = positionals.length > 0 ? positionals : defaultModelFiles();
    const out = values.out ?? "build";
    const cache = new ParseCache();
    // Models by name, teachers included, so every emitted import has its module.
    const toEmit = new Map<string, { model: ResolvedModel; teacher: ResolvedModel | null }>();
    for (const file of files) {
      const checked = loadChecked(file, io, cache);
      if (!checked) return 1;
      for (const r of selectModels(checked, file, undefined)) {
        const teacher = teacherOf(checked, r);
        toEmit.set(r.model.name, { model: r.model, teacher: teacher?.model ?? null });
        // A model with a generator imports the generator's graph, a module of its own (in PyTorch, a class of its module).
        if (r.model.generator && target === "tfjs")
          toEmit.set(generatorModel(r.model).name, { model: generatorModel(r.model), teacher: null });
        if (teacher) toEmit.set(teacher.model.name, { model: teacher.model, teacher: teacherOf(checked, teacher)?.model ?? null });
      }
    }
    try {
      mkdirSync(out, { recursive: true });
    } catch (e) {
      throw new UsageError(`cannot create '${out}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    for (const { model, teacher } of [...toEmit.values()].sort((a, b) => a.model.name.localeCompare(b.model.name))) {
      const emitted = target === "torch" ? emitTorchModule(model, teacher) : await emitGraph(model, teacher);
      writeAtomically(join(out, emitted.fileName), emitted.text);
      io.err(`wrote ${join(out, emitted.fileName)}`);
    }
    return 0;
  },
};

function defaultModelFiles(): string[] {
  try {
    return readdirSync("models")
      .filter((f) => f.endsWith(".bdl"))
      .sort()
      .map((f) => join("models", f));
  } catch {
    throw new UsageError("no FILE given and no models/ folder here.\n\n" + help);
  }
}
