/**
 * Go to definition (`extends X`, `teacher X`, `import "…"`) and find references of a model
 * name, across the open documents and everything their programs import. A name means the
 * declaration its program indexes under it, so references are gathered only from programs
 * in which the name reaches that same declaration.
 */
import * as path from "node:path";
import type { Location } from "vscode-languageserver";
import { resolveImport, type ModelEntry } from "../compiler/semantics/program.js";
import type { Span } from "../compiler/source.js";
import { locate, modelNames } from "./locate.js";
import { rangeOf } from "./positions.js";
import type { Analysis, Workspace } from "./workspace.js";

export function definition(analysis: Analysis, offset: number, workspace: Workspace): Location | null {
  const file = analysis.checked.program.entry;
  const target = file ? locate(file, offset) : null;
  if (!file || !target) return null;
  if (target.kind === "import") {
    const imported = resolveImport(file.source.path, target.decl.path.value, workspace.host);
    if (!workspace.host.fileExists(imported)) return null;
    return { uri: workspace.uriFor(imported), range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } };
  }
  if (target.kind !== "model") return null;
  const entry = analysis.checked.program.models.get(target.name.text);
  return entry ? { uri: workspace.uriFor(entry.file.source.path), range: rangeOf(entry.decl.name.span) } : null;
}

export function references(analysis: Analysis, offset: number, includeDeclaration: boolean, workspace: Workspace): Location[] {
  const file = analysis.checked.program.entry;
  const target = file ? locate(file, offset) : null;
  if (!target || target.kind !== "model") return [];
  const name = target.name.text;
  const declared = analysis.checked.program.models.get(name);
  if (!declared) return [];
  const seen = new Set<string>();
  const out: Location[] = [];
  for (const other of workspace.all()) {
    if (!sameDeclaration(other.checked.program.models.get(name), declared)) continue;
    for (const f of other.checked.program.files) {
      for (const ref of modelNames(f)) {
        if (ref.name.text !== name || (ref.role === "declaration" && !includeDeclaration)) continue;
        // A duplicate declaration elsewhere is a different model of the same name.
        if (ref.role === "declaration" && !sameSpan(ref.name.span, declared.decl.name.span)) continue;
        const key = `${path.resolve(f.source.path)}:${ref.name.span.start}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ uri: workspace.uriFor(f.source.path), range: rangeOf(ref.name.span) });
      }
    }
  }
  return out;
}

function sameDeclaration(a: ModelEntry | undefined, b: ModelEntry): boolean {
  return a !== undefined && sameSpan(a.decl.span, b.decl.span);
}

/** The same place of the same file, whichever path (relative or absolute) reached it. */
function sameSpan(a: Span, b: Span): boolean {
  return a.start === b.start && path.resolve(a.source.path) === path.resolve(b.source.path);
}
