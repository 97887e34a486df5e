/**
 * What the cursor is on, found in the compiler's AST of the document: a property key (with
 * the property path the resolver stores it under), a model name (declared, extended or
 * named as a teacher) or an import. Hover, definition and references start here.
 */
import type { FileNode, ImportDecl, ModelDecl, Name, Setting } from "../compiler/syntax/ast.js";
import { touches } from "./positions.js";

export type Target =
  /** `path` as in a resolution's origins: "hidden", "embeddings.positions", "objectives.mlm.weight". */
  | { kind: "property"; model: ModelDecl; path: string; key: Name; setting: Setting | null }
  | { kind: "model"; model: ModelDecl | null; name: Name; role: "declaration" | "extends" | "teacher" }
  | { kind: "import"; decl: ImportDecl };

export function locate(file: FileNode, offset: number): Target | null {
  for (const item of file.items) {
    if (!touches(item.span, offset)) continue;
    if (item.kind === "Import") return touches(item.path.span, offset) ? { kind: "import", decl: item } : null;
    const found = inModel(item, offset);
    if (found) return found;
  }
  return null;
}

function inModel(model: ModelDecl, offset: number): Target | null {
  if (touches(model.name.span, offset)) return { kind: "model", model, name: model.name, role: "declaration" };
  if (model.base && touches(model.base.span, offset)) return { kind: "model", model, name: model.base, role: "extends" };
  for (const m of model.members) {
    if (!touches(m.span, offset)) continue;
    switch (m.kind) {
      case "Setting":
        if (touches(m.key.span, offset)) return { kind: "property", model, path: m.key.text, key: m.key, setting: m };
        break;
      case "Record":
        for (const s of m.settings) {
          if (touches(s.key.span, offset)) return { kind: "property", model, path: `${m.name.text}.${s.key.text}`, key: s.key, setting: s };
        }
        break;
      case "Objectives":
        for (const o of m.objectives) {
          if (touches(o.name.span, offset))
            return { kind: "property", model, path: `objectives.${o.name.text}`, key: o.name, setting: null };
          for (const s of o.options) {
            if (touches(s.key.span, offset)) {
              return { kind: "property", model, path: `objectives.${o.name.text}.${s.key.text}`, key: s.key, setting: s };
            }
          }
        }
        break;
      case "Teacher":
        if (touches(m.model.span, offset)) return { kind: "model", model, name: m.model, role: "teacher" };
        break;
      default:
        break;
    }
  }
  return null;
}

/** Every place a file names a model: declarations, `extends` and `teacher`. */
export function modelNames(file: FileNode): { name: Name; role: "declaration" | "extends" | "teacher" }[] {
  const out: { name: Name; role: "declaration" | "extends" | "teacher" }[] = [];
  for (const item of file.items) {
    if (item.kind !== "Model") continue;
    out.push({ name: item.name, role: "declaration" });
    if (item.base) out.push({ name: item.base, role: "extends" });
    for (const m of item.members) if (m.kind === "Teacher") out.push({ name: m.model, role: "teacher" });
  }
  return out;
}

/** The model declaration of `files` whose text contains `offset` in the file at `filePath`. */
export function modelContaining(files: readonly FileNode[], filePath: string, offset: number): ModelDecl | null {
  for (const file of files) {
    if (file.source.path !== filePath) continue;
    for (const item of file.items) if (item.kind === "Model" && item.span.start <= offset && offset < item.span.end) return item;
  }
  return null;
}
