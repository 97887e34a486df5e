/**
 * Between the compiler's positions (UTF-16 offsets into a `Source`, see source.ts) and the
 * protocol's (0-based line and character, also UTF-16), and between file paths and URIs.
 */
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Position, Range } from "vscode-languageserver";
import { lineCol, type Source, type Span } from "../compiler/source.js";

export function positionAt(source: Source, offset: number): Position {
  // lineCol is what `bdlc check` prints (1-based); the protocol counts from 0.
  const { line, column } = lineCol(source, offset);
  return { line: line - 1, character: column - 1 };
}

export function rangeOf(span: Span): Range {
  return { start: positionAt(span.source, span.start), end: positionAt(span.source, span.end) };
}

/** Whether `offset` is inside the span or just after its last character (where a cursor sits after typing a word). */
export function touches(span: Span, offset: number): boolean {
  return offset >= span.start && offset <= span.end;
}

/**
 * The absolute path a document URI names. Documents that are not files (an unsaved
 * `untitled:` buffer) get a path of their own that no import can reach by accident.
 */
export function uriToPath(uri: string): string {
  if (uri.startsWith("file:")) {
    try {
      return path.resolve(fileURLToPath(uri));
    } catch {
      // A malformed file URI: fall through to a private path rather than fail the request.
    }
  }
  return path.resolve(path.sep, "__bdl_unsaved__", encodeURIComponent(uri) + ".bdl");
}

export function pathToUri(filePath: string): string {
  return pathToFileURL(path.resolve(filePath)).href;
}

export function rangesOverlap(a: Range, b: Range): boolean {
  const before = (p: Position, q: Position): boolean => p.line < q.line || (p.line === q.line && p.character < q.character);
  return !before(a.end, b.start) && !before(b.end, a.start);
}
