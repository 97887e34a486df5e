/** Formatting: the text `bdlc fmt` writes, as one edit; nothing for a file with syntax errors (fmt refuses those too). */
import type { TextEdit } from "vscode-languageserver";
import type { TextDocument } from "vscode-languageserver-textdocument";
import { formatSource } from "../compiler/unparse/format.js";

export function formatDocument(document: TextDocument, filePath: string): TextEdit[] {
  const text = document.getText();
  const formatted = formatSource({ path: filePath, text }).text;
  if (formatted === undefined || formatted === text) return [];
  return [{ range: { start: document.positionAt(0), end: document.positionAt(text.length) }, newText: formatted }];
}
