/**
 * Hover: on a property key, its value in the resolved model and the model of the extends
 * chain whose declaration set it (the resolution's origin of that path); on a model name,
 * its parameter counts and how they differ from the model it extends.
 */
import * as path from "node:path";
import { MarkupKind, type Hover } from "vscode-languageserver";
import { resolveImport } from "../compiler/semantics/program.js";
import type { Resolution } from "../compiler/semantics/resolve.js";
import { lineCol, type Span } from "../compiler/source.js";
import { flattenModel } from "../compiler/unparse/flatten.js";
import { countParams, formatCount, type ParamCount } from "../model/counts.js";
import { locate, modelContaining, type Target } from "./locate.js";
import { rangeOf } from "./positions.js";
import { describeProperty, propertyAt } from "./schema-docs.js";
import type { Analysis, Workspace } from "./workspace.js";

export function hover(analysis: Analysis, offset: number, workspace: Workspace): Hover | null {
  const file = analysis.checked.program.entry;
  if (!file) return null;
  const target = locate(file, offset);
  if (!target) return null;
  const lines =
    target.kind === "property"
      ? propertyHover(analysis, target, workspace)
      : target.kind === "model"
        ? modelHover(analysis, target.name.text, workspace)
        : importHover(analysis, target.decl.path.value, workspace);
  const span = target.kind === "import" ? target.decl.path.span : target.kind === "model" ? target.name.span : target.key.span;
  return { contents: { kind: MarkupKind.Markdown, value: lines.join("\n\n") }, range: rangeOf(span) };
}

function propertyHover(analysis: Analysis, target: Extract<Target, { kind: "property" }>, workspace: Workspace): string[] {
  const schema = propertyAt(target.path);
  const lines = [`**${target.path}**` + (schema ? `: ${describeProperty(target.path, schema)}` : "")];
  const resolution = resolutionOf(analysis, target.model.name.text, target.model.span);
  if (!resolution) {
    lines.push(`Model \`${target.model.name.text}\` does not resolve; see its diagnostics.`);
    return lines;
  }
  const flat = flattenModel(resolution.model).find((p) => p.path === target.path);
  if (flat) lines.push(`Value in \`${resolution.model.name}\`: \`${flat.text}\``);
  const origin = resolution.origins.get(target.path);
  if (!origin) {
    // The key was refused (a wrong value), so the model takes its base's value or the default.
    lines.push(
      schema && "default" in schema ? "Not set by any model of the chain: the default applies." : "Not set by any model of the chain.",
    );
    return lines;
  }
  lines.push(`Set by ${setterText(analysis, origin, resolution.model.name)} at ${link(origin, workspace)}: \`${written(origin)}\``);
  // What this model's setting replaces: the value the model it extends resolves to.
  const base = target.model.base?.text;
  const inherited = base ? analysis.checked.resolutions.get(base)?.origins.get(target.path) : undefined;
  if (inherited && inherited !== origin) {
    lines.push(`Overrides ${setterText(analysis, inherited, null)} at ${link(inherited, workspace)}: \`${written(inherited)}\``);
  }
  return lines;
}

/** "this model", or "model `bert`": the declaration that contains a span. */
function setterText(analysis: Analysis, span: Span, self: string | null): string {
  const setter = modelContaining(analysis.checked.program.files, span.source.path, span.start)?.name.text ?? "?";
  return setter === self ? "this model" : `model \`${setter}\``;
}

/** A setting as written, on one line. */
function written(span: Span): string {
  return span.source.text.slice(span.start, span.end).replace(/\s+/g, " ");
}

function modelHover(analysis: Analysis, name: string, workspace: Workspace): string[] {
  const { checked } = analysis;
  const entry = checked.program.models.get(name);
  if (!entry) return [`Unknown model \`${name}\`.`];
  const base = entry.decl.base?.text;
  const lines = [`**model ${name}**${base ? ` extends ${base}` : ""}, declared at ${link(entry.decl.name.span, workspace)}`];
  const resolution = checked.resolutions.get(name);
  const counts = resolution ? paramsOf(analysis, resolution) : null;
  if (!counts) {
    lines.push("Its parameters cannot be counted until its diagnostics are fixed.");
    return lines;
  }
  lines.push(`Parameters: ${formatCount(counts.total)} total, ${formatCount(counts.encoder)} in the encoder`);
  if (counts.electra) {
    lines.push(`ELECTRA: discriminator ${formatCount(counts.electra.discriminator)}, generator ${formatCount(counts.electra.generator)}`);
  }
  const parent = base ? checked.resolutions.get(base) : undefined;
  const parentCounts = parent ? paramsOf(analysis, parent) : null;
  if (base && parentCounts) {
    lines.push(
      `Change from \`${base}\`: ${signed(counts.total - parentCounts.total)} total, ${signed(counts.encoder - parentCounts.encoder)} in the encoder`,
    );
  }
  return lines;
}

function importHover(analysis: Analysis, spec: string, workspace: Workspace): string[] {
  const entry = analysis.checked.program.entry!;
  const target = resolveImport(entry.source.path, spec, workspace.host);
  return [
    `Imports ${workspace.host.fileExists(target) ? link({ source: { path: target, text: "" }, start: 0, end: 0 }, workspace) : `\`${target}\` (missing)`}`,
  ];
}

/** The resolution of the model declared at `span` (a duplicate declaration has none of its own). */
function resolutionOf(analysis: Analysis, name: string, span: Span): Resolution | undefined {
  const r = analysis.checked.resolutions.get(name);
  return r && r.entry.decl.span.start === span.start && r.entry.file.source.path === span.source.path ? r : undefined;
}

function paramsOf(analysis: Analysis, r: Resolution): ParamCount | null {
  const teacherName = r.model.teacher?.model;
  const teacher = teacherName ? analysis.checked.resolutions.get(teacherName)?.model : undefined;
  try {
    return countParams(r.model, teacher ?? null);
  } catch {
    // A model that breaks a rule (a sharing group beyond its layers) may have no parameter table.
    return null;
  }
}

function signed(n: number): string {
  return n > 0 ? `+${formatCount(n)}` : n === 0 ? "±0" : formatCount(n);
}

/** `[bert.bdl:6](file:///…/bert.bdl#L6)`: a link editors follow to the line. */
function link(span: Span, workspace: Workspace): string {
  const line = span.source.text ? lineCol(span.source, span.start).line : 1;
  return `[${path.basename(span.source.path)}:${line}](${workspace.uriFor(span.source.path)}#L${line})`;
}
