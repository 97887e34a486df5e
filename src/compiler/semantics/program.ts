/**
 * A program: one entry file and everything it imports, parsed, with every model in the
 * import closure indexed by name. Import cycles and duplicate model names are found here.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { imports, models, type FileNode, type ImportDecl, type ModelDecl } from "../syntax/ast.js";
import { Diag, diagnostic, type Diagnostic } from "../diagnostics.js";
import { parseSource } from "../syntax/parse.js";
import { spanOf, type Source, type Span } from "../source.js";
import { FileReadError, readTextFile } from "../../io/read-file.js";

/** Larger inputs are refused before lexing: no model file is anywhere near this size. */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;

/**
 * The reference models shipped with the package, found when an import is not beside the
 * importer: `models/` at the package root, two folders up from the bundle
 * (`dist/bundle/`) and three from this source file (`src/compiler/semantics/`).
 */
export const BUILTIN_MODELS_DIR = packageModelsDir();

function packageModelsDir(): string {
  for (const candidate of ["../../models/", "../../../models/"]) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path.join(dir, "bert.bdl"))) return dir;
  }
  return fileURLToPath(new URL("../../models/", import.meta.url));
}

export interface CompilerHost {
  /**
   * Returns the file's text, or throws an error whose message says why it cannot (a
   * `FileReadError` with a position for text that is not UTF-8).
   */
  readFile(filePath: string): string;
  fileExists(filePath: string): boolean;
}

export const nodeHost: CompilerHost = {
  readFile(filePath) {
    return readTextFile(filePath, MAX_FILE_BYTES);
  },
  fileExists(filePath) {
    return existsSync(filePath);
  },
};

export interface ModelEntry {
  decl: ModelDecl;
  file: FileNode;
}

export interface Program {
  /** The entry file (null when it could not be read). */
  entry: FileNode | null;
  files: FileNode[];
  /** Every model of the import closure, by name. */
  models: Map<string, ModelEntry>;
  diagnostics: Diagnostic[];
}

/** Parses each file once even when several programs (one per `check` argument) import it. */
export class ParseCache {
  private readonly parsed = new Map<string, ParseResult>();

  constructor(readonly host: CompilerHost = nodeHost) {}

  get(displayPath: string): ParseResult {
    const key = path.resolve(displayPath);
    let result = this.parsed.get(key);
    if (!result) {
      result = this.read(displayPath);
      this.parsed.set(key, result);
    }
    return result;
  }

  private read(displayPath: string): ParseResult {
    const read = readSource(this.host, displayPath);
    // Only reading is a user error here: a failure while parsing is a bug, and propagates.
    return "error" in read ? read : parseSource(read.source);
  }
}

/**
 * Reads one source file. Why it cannot be read is a sentence; for bytes that are not
 * UTF-8 text, `at` is where they are, in the file itself (otherwise the caller points at
 * the import, or at the file).
 */
export function readSource(host: CompilerHost, displayPath: string): { source: Source } | ReadFailure {
  try {
    return { source: { path: displayPath, text: host.readFile(displayPath) } };
  } catch (e) {
    if (e instanceof FileReadError && e.position && e.text !== undefined) {
      const source: Source = { path: displayPath, text: e.text };
      return { error: e.reason, at: spanOf(source, e.position.offset, e.position.offset + 1) };
    }
    return { error: describeReadError(e) };
  }
}

export interface ReadFailure {
  error: string;
  at?: Span;
}

/** A parsed file, or why it could not be read (and, for bad bytes, where they are). */
export type ParseResult = { ast: FileNode; diagnostics: Diagnostic[] } | ReadFailure;

function describeReadError(e: unknown): string {
  // "Cannot read 'x': it is a directory, not a file."
  if (e instanceof FileReadError) return /^(is|contains) /.test(e.reason) ? `it ${e.reason}` : e.reason;
  const err = e as NodeJS.ErrnoException;
  if (err.code === "ENOENT") return "no such file";
  if (err.code === "EACCES") return "permission denied";
  if (err.code === "EISDIR") return "it is a directory";
  return err.message ?? String(e);
}

export function loadProgram(entryPath: string, cache: ParseCache = new ParseCache()): Program {
  const program: Program = { entry: null, files: [], models: new Map(), diagnostics: [] };
  const visited = new Set<string>();
  // The files being visited, outermost first, each with the imports still to follow. An
  // explicit stack, not recursion, so a chain of thousands of imports fits.
  const stack: { key: string; displayPath: string; pending: ImportDecl[] }[] = [];
  const onStack = new Set<string>();

  /** Reads and records one file; returns its AST when it was read for the first time. */
  const enter = (displayPath: string, via: ImportDecl | null): FileNode | null => {
    const key = path.resolve(displayPath);
    if (onStack.has(key)) {
      const from = stack.findIndex((f) => f.key === key);
      const cycle = [...stack.slice(from).map((f) => f.key), key].map((p) => path.relative(process.cwd(), p) || p);
      program.diagnostics.push(diagnostic(Diag.ImportCycle, via!.path.span, [cycle.join(" -> ")]));
      return null;
    }
    if (visited.has(key)) return null;
    visited.add(key);
    const parsed = cache.get(displayPath);
    if ("error" in parsed) {
      const span = parsed.at ?? (via ? via.path.span : spanOf({ path: displayPath, text: "" }, 0, 0));
      program.diagnostics.push(diagnostic(Diag.CannotReadFile, span, [displayPath, parsed.error]));
      return null;
    }
    program.files.push(parsed.ast);
    for (const d of parsed.diagnostics) program.diagnostics.push(d); // not push(...): a file may have more diagnostics than a call has arguments
    stack.push({ key, displayPath, pending: imports(parsed.ast).reverse() });
    onStack.add(key);
    return parsed.ast;
  };

  program.entry = enter(entryPath, null);
  while (stack.length > 0) {
    const top = stack.at(-1)!;
    const imp = top.pending.pop();
    if (!imp) {
      stack.pop();
      onStack.delete(top.key);
      continue;
    }
    enter(resolveImport(top.displayPath, imp.path.value, cache.host), imp);
  }
  indexModels(program);
  return program;
}

/** Relative to the importing file; failing that, a reference model shipped with bdl. */
export function resolveImport(importer: string, spec: string, host: CompilerHost): string {
  // An absolute path means itself (joining it to the importer's folder would not).
  const local = path.normalize(path.isAbsolute(spec) ? spec : path.join(path.dirname(importer), spec));
  if (host.fileExists(local)) return local;
  const builtin = path.join(BUILTIN_MODELS_DIR, spec);
  if (!path.isAbsolute(spec) && !spec.startsWith(".") && host.fileExists(builtin)) {
    return path.relative(process.cwd(), builtin) || builtin;
  }
  return local;
}

function indexModels(program: Program): void {
  for (const file of program.files) {
    for (const decl of models(file)) {
      const existing = program.models.get(decl.name.text);
      if (existing) {
        program.diagnostics.push(
          diagnostic(Diag.DuplicateModel, decl.name.span, [decl.name.text, existing.file.source.path], {
            related: [{ span: existing.decl.name.span, message: "first declared here" }],
          }),
        );
        continue;
      }
      program.models.set(decl.name.text, { decl, file });
    }
  }
}
