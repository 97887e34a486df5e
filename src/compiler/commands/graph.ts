/** `bdlc graph FILE [--model NAME] [--svg OUT]`: a picture of the architecture. */
import { renderGraphSvg } from "../graph.js";
import { countParams } from "../params.js";
import { loadChecked, parseFlags, requirePositionals, selectOne, splitModelRef, teacherOf, writeAtomically, type Command } from "./command.js";

const help = `Usage: bdlc graph FILE[:NAME] [--model NAME] [--svg OUT]

Draw the architecture as SVG: embeddings (and their factorization), the encoder layers
with sharing groups as shared blocks, pooler, pretraining heads, and the teacher link.
Writes to OUT with --svg, otherwise to standard output.`;

export const graph: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { model: { type: "string" }, svg: { type: "string" } }, help);
    requirePositionals(positionals, 1, 1, "FILE", help);
    const ref = splitModelRef(positionals[0]!);
    const checked = loadChecked(ref.file, io);
    if (!checked) return 1;
    const r = selectOne(checked, ref.file, values.model ?? ref.name);
    const teacher = teacherOf(checked, r)?.model ?? null;
    const svg = renderGraphSvg(r.model, { teacher, params: countParams(r.model, teacher) });
    if (values.svg === undefined) {
      io.out(svg);
      return 0;
    }
    writeAtomically(values.svg, svg);
    io.err(`wrote ${values.svg}`);
    return 0;
  },
};
