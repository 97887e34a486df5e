/** `bdlc fmt FILE… [--write | --check]`: canonical formatting; comments kept. */
import { formatSource } from "../../compiler/unparse/format.js";
import { Diag, diagnostic } from "../../compiler/diagnostics.js";
import { nodeHost, readSource } from "../../compiler/semantics/program.js";
import { spanOf } from "../../compiler/source.js";
import { parseFlags, renderDiagnostics, requirePositionals, UsageError, writeAtomically, type Command } from "./command.js";

const help = `Usage: bdlc fmt FILE… [--write | --check]

Format .bdl files canonically. Formatting formatted text changes nothing, and comments
are kept. A file with syntax errors is left alone (its errors are printed).

Options:
  --write   rewrite the files in place
  --check   change nothing; exit 1 and list the files that are not formatted`;

export const fmt: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { write: { type: "boolean" }, check: { type: "boolean" } }, help);
    requirePositionals(positionals, 1, Infinity, "FILE", help);
    if (values.write && values.check) throw new UsageError("--write and --check cannot be used together.");
    let failed = false;
    const unformatted: string[] = [];
    for (const file of positionals) {
      const read = readSource(nodeHost, file);
      if ("error" in read) {
        // Refused, not repaired: rewriting bytes that are not UTF-8 would lose them.
        const at = read.at ?? spanOf({ path: file, text: "" }, 0, 0);
        io.err(renderDiagnostics([diagnostic(Diag.CannotReadFile, at, [file, read.error])], io));
        failed = true;
        continue;
      }
      const text = read.source.text;
      const result = formatSource({ path: file, text });
      if (result.text === undefined) {
        io.err(renderDiagnostics(result.diagnostics, io));
        failed = true;
        continue;
      }
      if (values.check) {
        if (result.text !== text) unformatted.push(file);
      } else if (values.write) {
        if (result.text !== text) writeAtomically(file, result.text);
      } else {
        io.out(result.text.replace(/\n$/, ""));
      }
    }
    if (unformatted.length > 0)
      io.err(`not formatted:\n${unformatted.map((f) => `  ${f}`).join("\n")}\nrun: bdlc fmt --write ${unformatted.join(" ")}`);
    return failed || unformatted.length > 0 ? 1 : 0;
  },
};
