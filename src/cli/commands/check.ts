/** `bdlc check FILE…`: parse, resolve and validate; print diagnostics as `file:line:col: error BDL0xx: message`. */
import { hasErrors, type Diagnostic } from "../../compiler/diagnostics.js";
import { ParseCache } from "../../compiler/semantics/program.js";
import { parseFlags, renderDiagnostics, requirePositionals, type Command } from "./command.js";

const help = `Usage: bdlc check FILE… [--quiet]

Parse, resolve and validate each file and everything it imports. Prints each problem as
  file:line:col: error BDL0xx: message
(with a code frame when run in a terminal). Exit 0 when there are no errors, 1 otherwise.

Options:
  --quiet   print nothing on success`;

export const check: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { quiet: { type: "boolean" } }, help);
    requirePositionals(positionals, 1, Infinity, "FILE", help);
    const cache = new ParseCache();
    const seen = new Set<string>();
    const all: Diagnostic[] = [];
    const { checkFile } = await import("../../compiler/semantics/check.js");
    for (const file of positionals) {
      for (const d of checkFile(file, cache).diagnostics) {
        // Files checked together may import the same file: report its problems once.
        const key = `${d.span.source.path}:${d.span.start}:${d.code}:${d.message}`;
        if (!seen.has(key)) all.push(d);
        seen.add(key);
      }
    }
    if (all.length > 0) io.out(renderDiagnostics(all, io));
    const errors = all.filter((d) => d.severity === "error").length;
    const warnings = all.length - errors;
    if (hasErrors(all)) {
      io.err(`${errors} error${errors === 1 ? "" : "s"}${warnings ? `, ${warnings} warning${warnings === 1 ? "" : "s"}` : ""}.`);
      return 1;
    }
    if (!values.quiet) io.out(`ok: ${positionals.join(", ")}${warnings ? ` (${warnings} warning${warnings === 1 ? "" : "s"})` : ""}`);
    return 0;
  },
};
