/** A parse's AST without positions, for comparing what two texts mean (e.g. before and after fmt). */
import { parseSource } from "../../src/compiler/syntax/parse.js";
import type { Diagnostic } from "../../src/compiler/diagnostics.js";

/** Spans and sources dropped; comments as their text without trailing blanks, which fmt drops. */
export function astShape(text: string): { shape: unknown; diagnostics: Diagnostic[] } {
  const { ast, diagnostics } = parseSource({ path: "shape.bdl", text });
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v === null || typeof v !== "object") return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== "span" && k !== "source") out[k] = strip(x);
    return out;
  };
  return { shape: strip({ ...ast, comments: ast.comments.map((c) => c.text.trimEnd()) }), diagnostics };
}
