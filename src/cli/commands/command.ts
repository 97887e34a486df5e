/** What every `bdlc` command shares: its shape, flag parsing, and loading the models it works on. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { models } from "../../compiler/syntax/ast.js";
import { checkFile, type CheckedProgram } from "../../compiler/semantics/check.js";
import { hasErrors, renderLine, renderWithFrame, type Diagnostic } from "../../compiler/diagnostics.js";
import type { ParseCache } from "../../compiler/semantics/program.js";
import type { ResolvedModel } from "../../model/model.js";
import type { Resolution } from "../../compiler/semantics/resolve.js";
import { suggest } from "../../compiler/suggest.js";

// Commands that write one file the user names share the app's atomic write.
export { writeAtomically } from "../../app/write-atomically.js";

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether diagnostics go to a person (code frames) or to a program (one line each). */
  isTerminal: boolean;
}

export interface Command {
  help: string;
  /** Returns the exit code. Throws `UsageError` for a bad invocation. */
  run(args: readonly string[], io: Io): Promise<number>;
}

/** A mistake in how the command was called: shown as one line, exit code 1. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig["options"]>;

export function parseFlags<O extends Options>(args: readonly string[], options: O, help: string) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (e) {
    const message = (e as Error).message;
    const flag = /'(-{1,2}[^',\s]+)/.exec(message)?.[1];
    const hint = flag?.startsWith("--") ? suggest(flag.slice(2), Object.keys(options)) : undefined;
    const firstLine = message
      .split("\n")[0]!
      .replace(/\. To specify a positional.*$/, "")
      .replace(/([^.])$/, "$1.");
    throw new UsageError(`${firstLine}${hint ? ` Did you mean '--${hint}'?` : ""}\n\n${help}`);
  }
}

export function renderDiagnostics(diagnostics: readonly Diagnostic[], io: Io): string {
  return diagnostics.map((d) => (io.isTerminal ? renderWithFrame(d) : renderLine(d))).join("\n");
}

/**
 * Check `file`; on errors, print them and return null (the caller exits 1). Warnings are
 * printed and do not stop the command.
 */
export function loadChecked(file: string, io: Io, cache?: ParseCache): CheckedProgram | null {
  const checked = checkFile(file, cache);
  if (checked.diagnostics.length > 0) io.err(renderDiagnostics(checked.diagnostics, io));
  return hasErrors(checked.diagnostics) ? null : checked;
}

/**
 * The models a command works on: `name` if given, else every model the file itself
 * declares (not the ones it imports).
 */
export function selectModels(checked: CheckedProgram, file: string, name: string | undefined): Resolution[] {
  if (name !== undefined) {
    const r = checked.resolutions.get(name);
    if (!r) {
      const hint = suggest(name, checked.resolutions.keys());
      throw new UsageError(`no model named '${name}' in ${file}.${hint ? ` Did you mean '${hint}'?` : ""}`);
    }
    return [r];
  }
  const own = checked.program.entry ? models(checked.program.entry).map((d) => d.name.text) : [];
  if (own.length === 0) throw new UsageError(`${file} declares no model.`);
  return own.map((n) => checked.resolutions.get(n)!).filter(Boolean);
}

/**
 * Exactly one model, for commands that draw or compare one. `choose` says how this command
 * names one ("FILE:NAME", "--model NAME or FILE:NAME"): only a command that takes --model
 * may suggest it.
 */
export function selectOne(checked: CheckedProgram, file: string, name: string | undefined, choose: string): Resolution {
  const chosen = selectModels(checked, file, name);
  if (chosen.length > 1) {
    throw new UsageError(`${file} declares several models (${chosen.map((r) => r.model.name).join(", ")}); choose one with ${choose}.`);
  }
  return chosen[0]!;
}

/** `FILE.bdl:NAME` → file and name; a plain path has no name. */
export function splitModelRef(ref: string): { file: string; name: string | undefined } {
  const m = /^(.*\.bdl):([^/\\:]+)$/.exec(ref);
  return m ? { file: m[1]!, name: m[2]! } : { file: ref, name: undefined };
}

export function teacherOf(checked: CheckedProgram, r: Resolution): Resolution | null {
  const t = r.model.teacher;
  return t ? (checked.resolutions.get(t.model) ?? null) : null;
}

/** One model of a checked file and its teacher's resolved model (null without one). */
export interface LoadedModel {
  file: string;
  model: ResolvedModel;
  teacher: ResolvedModel | null;
}

/**
 * `FILE.bdl[:NAME]` checked, with one model chosen (`name`, e.g. from --model, wins over the
 * ref's) and its teacher; null when the file has errors (already printed to `io`). `choose`
 * is how the command lets a user pick one of several models (default: `FILE:NAME`).
 */
export function loadModelRef(
  refText: string,
  io: Io,
  o: { name?: string | undefined; cache?: ParseCache; choose?: string } = {},
): LoadedModel | null {
  const ref = splitModelRef(refText);
  const checked = loadChecked(ref.file, io, o.cache);
  if (!checked) return null;
  const r = selectOne(checked, ref.file, o.name ?? ref.name, o.choose ?? "FILE:NAME");
  return { file: ref.file, model: r.model, teacher: teacherOf(checked, r)?.model ?? null };
}

export function requirePositionals(positionals: string[], min: number, max: number, what: string, help: string): void {
  if (positionals.length < min) throw new UsageError(`missing ${what}.\n\n${help}`);
  if (positionals.length > max) throw new UsageError(`unexpected argument '${positionals[max]}'.\n\n${help}`);
}

/** A flag that must be a positive integer (`flag` as the user types it, e.g. `--steps`); `fallback` when absent. */
export function positiveIntFlag(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, not '${value}'.`);
  return n;
}

/** A flag that must be a non-negative integer (`--seed`, `-n`, …); `fallback` when absent. */
export function nonNegativeIntFlag(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} must be a non-negative integer, not '${value}'.`);
  return n;
}

/** The `--backend` lines of the help of commands whose default is `auto`. */
export const BACKEND_FLAG_HELP = `  --backend B         auto (default: the fastest present), native (wasm with
                      onnxruntime-node's kernels), wasm, cpu, webgpu (Dawn: a GPU,
                      or llvmpipe without one), or tensorflow (needs tfjs-node)`;
