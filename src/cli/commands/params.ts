/** `bdlc params FILE [--model NAME] [--json]`: parameter counts, each tied or shared tensor once. */
import { countParams, formatCount } from "../../model/counts.js";
import { loadChecked, parseFlags, requirePositionals, selectModels, splitModelRef, teacherOf, type Command } from "./command.js";

const help = `Usage: bdlc params FILE[:NAME] [--model NAME] [--json]

Count parameters as Hugging Face transformers does, each tied or shared tensor once:
  encoder   embeddings + layers + pooler (if declared)
  total     encoder + pretraining heads
and a breakdown (embeddings, each layer or sharing group, pooler, each head). For a model
with a generator (ELECTRA), encoder is the discriminator's, total the pair's with the
shared embeddings once, and two more lines give each model as Hugging Face counts it:
  discriminator model   ElectraForPreTraining
  generator model       ElectraForMaskedLM (the shared embeddings included)

Options:
  --model NAME  the model to count (default: every model the file declares)
  --json        one JSON object per model: {"model", "encoder", "total", "breakdown"}
                (and "discriminator", "generator" for a model with a generator)`;

export const params: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { model: { type: "string" }, json: { type: "boolean" } }, help);
    requirePositionals(positionals, 1, 1, "FILE", help);
    const ref = splitModelRef(positionals[0]!);
    const checked = loadChecked(ref.file, io);
    if (!checked) return 1;
    const chosen = selectModels(checked, ref.file, values.model ?? ref.name);
    const blocks: string[] = [];
    for (const r of chosen) {
      const counts = countParams(r.model, teacherOf(checked, r)?.model ?? null);
      if (values.json) {
        const { encoder, total, breakdown, electra } = counts;
        io.out(JSON.stringify({ model: r.model.name, encoder, total, ...electra, breakdown }));
        continue;
      }
      const rows: [string, number][] = [...Object.entries(counts.breakdown), ["encoder", counts.encoder], ["total", counts.total]];
      const pair: [string, number][] = counts.electra
        ? [
            ["discriminator model", counts.electra.discriminator],
            ["generator model", counts.electra.generator],
          ]
        : [];
      rows.push(...pair);
      const width = Math.max(...rows.map(([k]) => k.length));
      const numWidth = Math.max(...rows.map(([, n]) => formatCount(n).length));
      const lines = rows.map(([k, n]) => `  ${k.padEnd(width)}  ${formatCount(n).padStart(numWidth)}`);
      lines.splice(lines.length - 2 - pair.length, 0, `  ${"-".repeat(width + numWidth + 2)}`);
      blocks.push([`${r.model.name}`, ...lines].join("\n"));
    }
    if (!values.json) io.out(blocks.join("\n\n"));
    return 0;
  },
};
