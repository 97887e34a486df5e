/**
 * `bdlc diff A B`: which properties of two resolved models differ, and what that does to
 * their parameter counts. Properties are compared as the `.bdl` text `flattenModel` gives,
 * so the output reads like the source a user would edit.
 */
import { flattenModel } from "./unparse/flatten.js";
import type { ResolvedModel } from "../model/model.js";
import { countParams, formatCount, type ParamCount } from "../model/counts.js";

export interface PropertyChange {
  path: string;
  before: string;
  after: string;
}

export interface ModelDiff {
  changes: PropertyChange[];
  params: { before: ParamCount; after: ParamCount };
}

export interface DiffOptions {
  /** The teachers, where the models have one: a `cosine` projection depends on them. */
  teacherA?: ResolvedModel | null;
  teacherB?: ResolvedModel | null;
}

export function diffModels(a: ResolvedModel, b: ResolvedModel, opts: DiffOptions = {}): ModelDiff {
  // Both lists have the same paths in the same order, so they pair up by index.
  const after = flattenModel(b);
  const changes: PropertyChange[] = [];
  flattenModel(a).forEach((prop, i) => {
    const other = after[i];
    if (other && other.text !== prop.text) changes.push({ path: prop.path, before: prop.text, after: other.text });
  });
  return {
    changes,
    params: { before: countParams(a, opts.teacherA), after: countParams(b, opts.teacherB) },
  };
}

/** The diff as text; `labelA`/`labelB` name the models, e.g. `models/bert.bdl:bert`. */
export function renderDiff(d: ModelDiff, labelA: string, labelB: string): string {
  const lines = [`--- ${labelA}`, `+++ ${labelB}`];

  if (d.changes.length === 0) lines.push("  no architectural differences");
  else lines.push(...aligned(d.changes.map((c) => [c.path, `${c.before} -> ${c.after}`])));
  lines.push("");

  const { before, after } = d.params;
  const rows: Array<[string, string]> = [
    ["params.encoder", countChange(before.encoder, after.encoder)],
    ["params.total", countChange(before.total, after.total)],
  ];
  // Per component rather than per layer: a change of depth or sharing would otherwise
  // list every layer. Components of A in order, then those only B has; absent counts 0.
  const x = components(before);
  const y = components(after);
  for (const key of new Set([...x.keys(), ...y.keys()])) {
    if (x.get(key) !== y.get(key)) rows.push([`params.${key}`, countChange(x.get(key), y.get(key))]);
  }
  lines.push(...aligned(rows));
  return lines.join("\n") + "\n";
}

/** The breakdown summed per component: every `layer.N` and `group.NAME` count as `layers`. */
function components(counts: ParamCount): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, n] of Object.entries(counts.breakdown)) {
    const component = key.startsWith("layer.") || key.startsWith("group.") ? "layers" : key;
    out.set(component, (out.get(component) ?? 0) + n);
  }
  return out;
}

/** Two-column lines, the first column padded to its widest entry. */
function aligned(rows: Array<[string, string]>): string[] {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}   ${v}`);
}

/** `109,482,240 -> 11,683,584  (-97,798,656, -89.3%)`; an absent count prints as `-`. */
function countChange(before: number | undefined, after: number | undefined): string {
  const show = (n: number | undefined): string => (n === undefined ? "-" : formatCount(n));
  const x = before ?? 0;
  const y = after ?? 0;
  const delta = y - x;
  let change: string;
  if (delta === 0) change = "no change";
  else {
    const signed = (delta > 0 ? "+" : "") + formatCount(delta);
    change = x === 0 ? signed : `${signed}, ${delta > 0 ? "+" : ""}${((100 * delta) / x).toFixed(1)}%`;
  }
  return `${show(before)} -> ${show(after)}  (${change})`;
}
