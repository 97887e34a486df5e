/** `bdlc print FILE [--model NAME] --resolved`: a model with every extends and import resolved, as canonical .bdl. */
import { printResolved } from "../../compiler/unparse/print.js";
import type { Resolution } from "../../compiler/semantics/resolve.js";
import {
  loadChecked,
  parseFlags,
  requirePositionals,
  selectModels,
  splitModelRef,
  teacherOf,
  UsageError,
  type Command,
} from "./command.js";

const help = `Usage: bdlc print FILE[:NAME] [--model NAME] --resolved

Print the model with every extends and import resolved and every default written out,
as canonical .bdl text, so that plain \`diff\` works on two models. A model's teacher
is printed after it (resolved too), so the text checks on its own.

Options:
  --model NAME  the model to print (default: every model the file declares)
  --resolved    resolve extends and imports (required: the unresolved form is \`bdlc fmt\`)`;

export const print: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { model: { type: "string" }, resolved: { type: "boolean" } }, help);
    requirePositionals(positionals, 1, 1, "FILE", help);
    if (!values.resolved) throw new UsageError("print needs --resolved (to format a file as written, use `bdlc fmt`).");
    const ref = splitModelRef(positionals[0]!);
    const checked = loadChecked(ref.file, io);
    if (!checked) return 1;
    const chosen = selectModels(checked, ref.file, values.model ?? ref.name);
    // The printed text names each teacher but has no import: print the teachers too (and
    // theirs), each once, after the models asked for.
    const printed = new Set(chosen.map((r) => r.model.name));
    const queue: Resolution[] = [...chosen];
    for (let i = 0; i < queue.length; i++) {
      const teacher = teacherOf(checked, queue[i]!);
      if (teacher && !printed.has(teacher.model.name)) {
        printed.add(teacher.model.name);
        queue.push(teacher);
      }
    }
    io.out(queue.map((r) => printResolved(r.model, teacherOf(checked, r)?.model ?? null)).join("\n"));
    return 0;
  },
};
