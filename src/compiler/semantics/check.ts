/**
 * The checker: resolves every model of a program and runs the rules over each, in one
 * pass per model. Validation of a declaration's own text happens once per declaration
 * (in `declaration`); rules here see only resolved models.
 */
import { Diag, diagnostic, didYouMean, sortDiagnostics, type Diagnostic } from "../diagnostics.js";
import { ParseCache, loadProgram, type Program } from "./program.js";
import { Resolver, type Resolution } from "./resolve.js";
import { factorizeBelowHidden, firstAttentionNormFits, headsDivideHidden, rotaryFits, seqWithinPositions } from "./rules/architecture.js";
import { makeContext, type Rule, type RuleSubject } from "./rules/context.js";
import { expectationsHold } from "./rules/expect.js";
import { generatorFits, rtdNeedsGenerator } from "./rules/generator.js";
import { documentMaskNeedsPacking, maskFractionsSumToOne } from "./rules/masking.js";
import {
  distillSharesVocab,
  hasObjectives,
  notBothNspAndSop,
  objectivesNeedTeacher,
  sentenceObjectivesNeedPooler,
} from "./rules/objectives.js";
import { sharingGroups } from "./rules/sharing.js";
import { specialIdsFit } from "./rules/special.js";
import { initEmbeddingsFit, initLayersFit } from "./rules/teacher.js";
import type { ResolvedModel } from "../../model/model.js";
import { spanOf } from "../source.js";
import { suggest } from "../suggest.js";

export const RULES: readonly Rule[] = [
  headsDivideHidden,
  factorizeBelowHidden,
  seqWithinPositions,
  firstAttentionNormFits,
  rotaryFits,
  sharingGroups,
  objectivesNeedTeacher,
  sentenceObjectivesNeedPooler,
  notBothNspAndSop,
  distillSharesVocab,
  hasObjectives,
  rtdNeedsGenerator,
  generatorFits,
  maskFractionsSumToOne,
  documentMaskNeedsPacking,
  initLayersFit,
  initEmbeddingsFit,
  specialIdsFit,
  expectationsHold,
];

export interface CheckedProgram {
  program: Program;
  resolver: Resolver;
  /** Every model of the program that resolved, by name. */
  resolutions: Map<string, Resolution>;
  /** Sorted, without duplicates. */
  diagnostics: Diagnostic[];
}

export function checkProgram(program: Program): CheckedProgram {
  const resolver = new Resolver(program);
  const diagnostics: Diagnostic[] = [...program.diagnostics, ...resolver.declarationDiagnostics()];
  const resolutions = new Map<string, Resolution>();
  const names = [...program.models.keys()];
  for (const name of names) {
    const { resolution, diagnostics: found } = resolver.resolve(name);
    diagnostics.push(...found);
    if (!resolution) continue;
    resolutions.set(name, resolution);
    const teacher = resolveTeacher(resolution, resolver, names, diagnostics);
    const ctx = makeContext(resolution, teacher, names, diagnostics);
    for (const rule of RULES) rule(ctx);
  }
  return { program, resolver, resolutions, diagnostics: dedupe(sortDiagnostics(diagnostics)) };
}

function resolveTeacher(resolution: Resolution, resolver: Resolver, names: string[], sink: Diagnostic[]): Resolution | null {
  const link = resolution.model.teacher;
  if (!link) return null;
  const span = resolution.origins.get("teacher")!;
  if (link.model === resolution.model.name) {
    sink.push(diagnostic(Diag.TeacherIsSelf, span, [link.model]));
    return null;
  }
  if (!resolver.program.models.has(link.model)) {
    const hint = suggest(link.model, names);
    sink.push(diagnostic(Diag.TeacherUnknown, span, [link.model, didYouMean(hint)], hint ? { suggestion: hint } : {}));
    return null;
  }
  return resolver.resolve(link.model).resolution;
}

/**
 * The errors `bdlc check` would find in a model that comes already resolved, from a file
 * that is not `.bdl` (a checkpoint's bdl.json): the same rules, with no lines to point at.
 * `label` names the file in the diagnostics.
 */
export function modelErrors(model: ResolvedModel, teacher: ResolvedModel | null, label: string): Diagnostic[] {
  const source = { path: label, text: "" };
  const resolved = (m: ResolvedModel): RuleSubject => ({
    model: m,
    // No declaration: every finding points at the model, that is, at the file.
    origins: new Map([["model", spanOf(source, 0, 0)]]),
    depths: new Map([["model", 0]]),
    sharing: null,
  });
  const found: Diagnostic[] = [];
  const ctx = makeContext(resolved(model), teacher ? resolved(teacher) : null, [], found);
  for (const rule of RULES) rule(ctx);
  return found.filter((d) => d.severity === "error");
}

/** A rule broken by an inherited property is found once per model that inherits it; say it once. */
function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.span.source.path}:${d.span.start}:${d.code}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Load, parse, resolve and check one file and its imports. */
export function checkFile(path: string, cache: ParseCache = new ParseCache()): CheckedProgram {
  return checkProgram(loadProgram(path, cache));
}
