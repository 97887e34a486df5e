/**
 * Quick fixes: every published diagnostic that carries a "did you mean" suggestion can be
 * fixed by replacing its span with the suggestion. The diagnostics are the server's own
 * latest ones for the document, so a fix never acts on a stale or invented range.
 */
import { CodeActionKind, type CodeAction, type Diagnostic, type Range } from "vscode-languageserver";
import type { FixData } from "./diagnostics.js";
import { rangesOverlap } from "./positions.js";

export function quickFixes(uri: string, range: Range, published: readonly Diagnostic[]): CodeAction[] {
  const out: CodeAction[] = [];
  for (const d of published) {
    const suggestion = (d.data as FixData | undefined)?.suggestion;
    if (typeof suggestion !== "string" || !rangesOverlap(d.range, range)) continue;
    out.push({
      title: `Replace with '${suggestion}'`,
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      isPreferred: true,
      edit: { changes: { [uri]: [{ range: d.range, newText: suggestion }] } },
    });
  }
  return out;
}
