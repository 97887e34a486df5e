/** Document symbols: each model, its blocks and its settings, for an editor's outline. */
import { SymbolKind, type DocumentSymbol } from "vscode-languageserver";
import type { FileNode, Member, Setting } from "../compiler/syntax/ast.js";
import { rangeOf } from "./positions.js";

export function documentSymbols(file: FileNode): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  for (const item of file.items) {
    if (item.kind === "Import") {
      out.push({
        name: `import "${item.path.value}"`,
        kind: SymbolKind.File,
        range: rangeOf(item.span),
        selectionRange: rangeOf(item.path.span),
      });
      continue;
    }
    out.push({
      name: item.name.text,
      detail: item.base ? `extends ${item.base.text}` : "model",
      kind: SymbolKind.Class,
      range: rangeOf(item.span),
      selectionRange: rangeOf(item.name.span),
      children: item.members.map(memberSymbol),
    });
  }
  return out;
}

function memberSymbol(m: Member): DocumentSymbol {
  switch (m.kind) {
    case "Setting":
      return setting(m);
    case "Record":
      return { name: m.name.text, kind: SymbolKind.Struct, ...at(m.span, m.name.span), children: m.settings.map(setting) };
    case "Objectives":
      return {
        name: "objectives",
        kind: SymbolKind.Namespace,
        range: rangeOf(m.span),
        selectionRange: rangeOf(m.span),
        children: m.objectives.map((o) => ({
          name: o.name.text,
          detail: o.off ? "off" : o.options.map((s) => `${s.key.text} ${valueText(s)}`).join(" "),
          kind: SymbolKind.Event,
          ...at(o.span, o.name.span),
        })),
      };
    case "Sharing":
      return {
        name: "sharing",
        detail: m.mode?.text ?? "",
        kind: SymbolKind.Namespace,
        ...at(m.span, m.span),
        children: m.groups.map((g) => ({ name: g.name.text, detail: "group", kind: SymbolKind.Array, ...at(g.span, g.name.span) })),
      };
    case "Teacher":
      return { name: "teacher", detail: m.model.text, kind: SymbolKind.Interface, ...at(m.span, m.model.span) };
    case "Expect":
      return { name: `expect ${m.key.text}`, detail: m.value.text, kind: SymbolKind.Constant, ...at(m.span, m.key.span) };
    case "Tokenizer":
      return { name: "tokenizer", detail: m.tokenizer.text, kind: SymbolKind.Property, ...at(m.span, m.tokenizer.span) };
  }
}

function setting(s: Setting): DocumentSymbol {
  return { name: s.key.text, detail: valueText(s), kind: SymbolKind.Property, ...at(s.span, s.key.span) };
}

/** The value as written, on one line. */
function valueText(s: Setting): string {
  const v = s.value;
  return v.span.source.text.slice(v.span.start, v.span.end).replace(/\s+/g, " ");
}

/** The protocol requires the selection range inside the symbol's range. */
function at(span: Setting["span"], selection: Setting["span"]) {
  return { range: rangeOf(span), selectionRange: rangeOf(selection) };
}
