/** `bdlc graph FILE [--model NAME] [--svg OUT]`: a picture of the architecture. */
import { renderGraphSvg } from "../../tools/architecture-svg.js";
import { countParams } from "../../model/counts.js";
import { loadModelRef, parseFlags, requirePositionals, writeAtomically, type Command } from "./command.js";

const help = `Usage: bdlc graph FILE[:NAME] [--model NAME] [--svg OUT]

Draw the architecture as SVG: embeddings (and their factorization), the encoder layers
with sharing groups as shared blocks, pooler, pretraining heads, the teacher link, and
ELECTRA's generator.
Writes to OUT with --svg, otherwise to standard output.`;

export const graph: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { model: { type: "string" }, svg: { type: "string" } }, help);
    requirePositionals(positionals, 1, 1, "FILE", help);
    const loaded = loadModelRef(positionals[0]!, io, { name: values.model, choose: "--model NAME or FILE:NAME" });
    if (!loaded) return 1;
    const { model, teacher } = loaded;
    const svg = renderGraphSvg(model, { teacher, params: countParams(model, teacher) });
    if (values.svg === undefined) {
      io.out(svg);
      return 0;
    }
    writeAtomically(values.svg, svg);
    io.err(`wrote ${values.svg}`);
    return 0;
  },
};
