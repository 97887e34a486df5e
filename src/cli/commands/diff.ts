/** `bdlc diff A B`: one line per changed property of two resolved models, then parameter counts. */
import { diffModels, renderDiff } from "../../compiler/diff.js";
import { ParseCache } from "../../compiler/semantics/program.js";
import { loadModelRef, parseFlags, requirePositionals, type Command } from "./command.js";

const help = `Usage: bdlc diff A B

Architecture diff of two resolved models. A and B are FILE or FILE:MODEL (MODEL may be
left out when the file declares one model). Prints one line per changed property, then
the parameter counts before and after, with the change.`;

export const diff: Command = {
  help,
  async run(args, io) {
    const { positionals } = parseFlags(args, {}, help);
    requirePositionals(positionals, 2, 2, "the two models to compare (A B)", help);
    const cache = new ParseCache();
    const sides = [];
    for (const arg of positionals) {
      const loaded = loadModelRef(arg, io, { cache });
      if (!loaded) return 1;
      sides.push({ label: `${loaded.file}:${loaded.model.name}`, model: loaded.model, teacher: loaded.teacher });
    }
    const [a, b] = sides as [(typeof sides)[0], (typeof sides)[0]];
    const d = diffModels(a.model, b.model, { teacherA: a.teacher, teacherB: b.teacher });
    io.out(renderDiff(d, a.label, b.label));
    return 0;
  },
};
