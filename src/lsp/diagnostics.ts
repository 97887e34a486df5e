/**
 * The compiler's diagnostics as the protocol's, per file. Every open document's program is
 * checked as `bdlc check` checks its entry file, so a problem may lie in an imported file;
 * each file gets the union of what every program found in it, once.
 */
import * as path from "node:path";
import { DiagnosticSeverity, type Diagnostic as LspDiagnostic } from "vscode-languageserver";
import type { Diagnostic } from "../compiler/diagnostics.js";
import { rangeOf } from "./positions.js";
import type { Analysis, Workspace } from "./workspace.js";

/** What a quick fix needs from a published diagnostic. */
export interface FixData {
  suggestion: string;
}

export function toLspDiagnostic(d: Diagnostic, workspace: Workspace): LspDiagnostic {
  const out: LspDiagnostic = {
    range: rangeOf(d.span),
    severity: d.severity === "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: d.code,
    source: "bdl",
    message: d.message,
  };
  if (d.related?.length) {
    out.relatedInformation = d.related.map((r) => ({
      location: { uri: workspace.uriFor(r.span.source.path), range: rangeOf(r.span) },
      message: r.message,
    }));
  }
  if (d.suggestion !== undefined) out.data = { suggestion: d.suggestion } satisfies FixData;
  return out;
}

/** Every file's diagnostics, keyed by URI, from all the open documents' programs. */
export function diagnosticsByUri(analyses: readonly Analysis[], workspace: Workspace): Map<string, LspDiagnostic[]> {
  const byPath = new Map<string, Map<string, Diagnostic>>();
  for (const a of analyses) {
    for (const d of a.checked.diagnostics) {
      const file = path.resolve(d.span.source.path);
      let found = byPath.get(file);
      if (!found) byPath.set(file, (found = new Map()));
      // Two programs that import the same file find its problems twice: publish them once.
      found.set(`${d.span.start}:${d.span.end}:${d.code}:${d.message}`, d);
    }
  }
  const out = new Map<string, LspDiagnostic[]>();
  for (const [file, found] of byPath) {
    const sorted = [...found.values()].sort((a, b) => a.span.start - b.span.start || a.code.localeCompare(b.code));
    out.set(
      workspace.uriFor(file),
      sorted.map((d) => toLspDiagnostic(d, workspace)),
    );
  }
  return out;
}
