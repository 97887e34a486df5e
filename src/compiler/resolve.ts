/**
 * `extends` resolution: a model's declaration chain (root first) merged into one
 * `ResolvedModel`, with defaults filled in. Merge rules, as the language spec gives them:
 *   - plain properties: the nearest declaration wins;
 *   - records (`embeddings`, `masking`, `special`, `train`, `teacher`): key by key;
 *   - `objectives`: by objective name, options key by key; `NAME off` removes one;
 *   - `sharing` and `tokenizer`: the nearest declaration replaces the whole thing;
 *   - `expect`: never inherited — an expectation is about the model that states it.
 * Alongside the model it keeps, for each property path, the span that set it, so later
 * checks can point at the line responsible (which may be in a base model's file).
 */
import { readDeclaration, type DeclarationInfo } from "./declaration.js";
import { Diag, diagnostic, didYouMean, type Diagnostic } from "./diagnostics.js";
import {
  OBJECTIVE_ORDER, type Activation, type DecayKind, type MaskingConfig, type Objective, type ObjectiveName,
  type OptimizerKind, type Pooler, type ResolvedModel, type SharingGroup, type TeacherLink, type TrainConfig,
} from "./model.js";
import type { ModelEntry, Program } from "./program.js";
import { REQUIRED_PROPERTIES } from "./schema.js";
import type { Span } from "./source.js";
import { suggest } from "./suggest.js";

/** Values a model gets when no declaration in its chain sets them (BERT-base's, where it has one). */
const DEFAULTS: Record<string, unknown> = {
  activation: "gelu",
  norm_eps: 1e-12,
  dropout: 0.1,
  attention_dropout: 0.1,
  pooler: "tanh",
  "embeddings.positions": 512,
  "embeddings.offset": 0,
  "embeddings.segments": 2,
  "embeddings.factorize": null,
  "masking.rate": 0.15,
  "masking.mask": 0.8,
  "masking.random": 0.1,
  "masking.keep": 0.1,
  "masking.unit": { word: "token", argument: null },
  "masking.schedule": "dynamic",
  "masking.duplicates": 10,
  "train.optimizer": "adamw",
  "train.lr": 1e-4,
  "train.beta1": 0.9,
  "train.beta2": 0.999,
  "train.eps": 1e-6,
  "train.weight_decay": 0.01,
  "train.warmup": 10000,
  "train.decay": "linear",
  "train.batch": 256,
  "train.seq": 128,
  "train.steps": 1000000,
};
/** Special ids for a model that declares none: a layout that fits any vocabulary of 5 or more. */
const DEFAULT_SPECIAL: Record<string, number> = { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 };
const DEFAULT_OBJECTIVE_OPTIONS: Record<string, number> = { weight: 1, temperature: 2 };

export interface Resolution {
  model: ResolvedModel;
  entry: ModelEntry;
  /** Where each property path ("heads", "embeddings.factorize", "sharing", "objectives.distill", "teacher", …) was set. */
  origins: Map<string, Span>;
  /** The declarations merged, root first. */
  chain: DeclarationInfo[];
  /** The `sharing` declaration in effect (the nearest one), for checks that point at its groups. */
  sharing: DeclarationInfo["sharing"];
}

export interface ResolveResult {
  resolution: Resolution | null;
  diagnostics: Diagnostic[];
}

/** Resolves models of one program, reading each declaration once. */
export class Resolver {
  private readonly declarations = new Map<ModelEntry, DeclarationInfo>();
  private readonly results = new Map<string, ResolveResult>();

  constructor(readonly program: Program) {}

  declaration(entry: ModelEntry): DeclarationInfo {
    let info = this.declarations.get(entry);
    if (!info) {
      info = readDeclaration(entry.decl);
      this.declarations.set(entry, info);
    }
    return info;
  }

  /** All diagnostics of reading declarations, each declaration once. */
  declarationDiagnostics(): Diagnostic[] {
    return [...this.program.models.values()].flatMap((e) => this.declaration(e).diagnostics);
  }

  resolve(name: string): ResolveResult {
    let result = this.results.get(name);
    if (!result) {
      result = this.compute(name);
      this.results.set(name, result);
    }
    return result;
  }

  private compute(name: string): ResolveResult {
    const leaf = this.program.models.get(name);
    if (!leaf) return { resolution: null, diagnostics: [] };
    const chainResult = this.chainOf(leaf);
    if (!chainResult.chain) return { resolution: null, diagnostics: chainResult.diagnostics };
    const chain = chainResult.chain.map((e) => this.declaration(e)).reverse();
    const diagnostics: Diagnostic[] = [];
    const resolution = merge(leaf, chain, diagnostics);
    return { resolution, diagnostics };
  }

  /** Leaf first. Reports unknown bases (with "did you mean") and cycles. */
  private chainOf(leaf: ModelEntry): { chain: ModelEntry[] | null; diagnostics: Diagnostic[] } {
    const chain: ModelEntry[] = [leaf];
    let current = leaf;
    while (current.decl.base) {
      const base = current.decl.base;
      const next = this.program.models.get(base.text);
      if (!next) {
        const hint = suggest(base.text, this.program.models.keys());
        return {
          chain: null,
          diagnostics: [diagnostic(Diag.UnknownModel, base.span, [base.text, didYouMean(hint)], hint ? { suggestion: hint } : {})],
        };
      }
      if (chain.includes(next)) {
        const names = [...chain.slice(chain.indexOf(next)), next].map((e) => e.decl.name.text);
        return { chain: null, diagnostics: [diagnostic(Diag.ExtendsCycle, base.span, [names.join(" -> ")])] };
      }
      chain.push(next);
      current = next;
    }
    return { chain, diagnostics: [] };
  }
}

function merge(leaf: ModelEntry, chain: DeclarationInfo[], diagnostics: Diagnostic[]): Resolution | null {
  const settings = new Map<string, unknown>();
  const origins = new Map<string, Span>();
  let sharing: DeclarationInfo["sharing"] = null;
  const objectives = new Map<ObjectiveName, Map<string, number>>();
  let teacher = null as TeacherLink | null;
  let tokenizer: ResolvedModel["tokenizer"] = { kind: "wordpiece", lowercase: true };

  for (const info of chain) {
    for (const [path, set] of info.settings) {
      settings.set(path, set.value);
      origins.set(path, set.span);
    }
    if (info.sharing) {
      sharing = info.sharing;
      origins.set("sharing", info.sharing.span);
    }
    for (const o of info.objectives) {
      origins.set(`objectives.${o.name}`, o.span);
      if (o.off) {
        objectives.delete(o.name);
        continue;
      }
      const options = objectives.get(o.name) ?? new Map<string, number>();
      for (const [k, v] of o.options) {
        options.set(k, v.value as number);
        origins.set(`objectives.${o.name}.${k}`, v.span);
      }
      objectives.set(o.name, options);
    }
    if (info.teacher) {
      const t = info.teacher;
      teacher = {
        model: t.model.text,
        checkpoint: t.checkpoint ?? teacher?.checkpoint ?? null,
        initLayers: t.initLayers?.layers ?? teacher?.initLayers ?? null,
        initEmbeddings: t.initEmbeddings !== null || (teacher?.initEmbeddings ?? false),
      };
      origins.set("teacher", t.model.span);
      if (t.initLayers) origins.set("teacher.initLayers", t.initLayers.span);
      if (t.initEmbeddings) origins.set("teacher.initEmbeddings", t.initEmbeddings);
    }
    if (info.tokenizer) {
      tokenizer = { kind: info.tokenizer.kind, lowercase: info.tokenizer.lowercase };
      origins.set("tokenizer", info.tokenizer.span);
    }
  }

  const leafInfo = chain.at(-1)!;
  const missing = REQUIRED_PROPERTIES.filter((p) => !settings.has(p));
  for (const p of missing) diagnostics.push(diagnostic(Diag.MissingProperty, leaf.decl.name.span, [leaf.decl.name.text, p]));
  if (missing.length > 0) return null;

  const get = <T>(path: string): T => (settings.has(path) ? settings.get(path) : DEFAULTS[path]) as T;
  const layers = get<number>("layers");

  const model: ResolvedModel = {
    name: leaf.decl.name.text,
    file: leaf.file.source.path,
    bases: chain.slice(0, -1).map((i) => i.decl.name.text).reverse(),
    vocab: get("vocab"),
    hidden: get("hidden"),
    layers,
    heads: get("heads"),
    intermediate: get("intermediate"),
    activation: get<Activation>("activation"),
    norm_eps: get("norm_eps"),
    dropout: get("dropout"),
    attention_dropout: get("attention_dropout"),
    pooler: get<Pooler>("pooler"),
    embeddings: {
      positions: get("embeddings.positions"),
      offset: get("embeddings.offset"),
      segments: get("embeddings.segments"),
      factorize: get("embeddings.factorize"),
    },
    sharing: resolveSharing(sharing, layers),
    objectives: OBJECTIVE_ORDER.filter((n) => objectives.has(n)).map((n) => resolveObjective(n, objectives.get(n)!)),
    masking: resolveMasking(get),
    teacher,
    tokenizer,
    special: resolveSpecial(settings, (role) =>
      diagnostics.push(diagnostic(Diag.MissingProperty, leaf.decl.name.span, [leaf.decl.name.text, `special ${role}`])),
    ),
    train: resolveTrain(get),
    expect: leafInfo.expect.map((e) => e.expectation),
  };
  for (const e of leafInfo.expect) origins.set(`expect.${e.expectation.key}`, e.span);
  origins.set("model", leaf.decl.name.span);
  return { model, entry: leaf, origins, chain, sharing };
}

function resolveSharing(sharing: DeclarationInfo["sharing"], layers: number): SharingGroup[] {
  if (!sharing) return [];
  if (sharing.mode !== "groups") {
    if (sharing.mode === "none") return [];
    // `sharing all` means every layer of the resolved model, however many a later `extends` sets.
    return [{ name: "all", layers: [...Array(layers).keys()], share: ["attention", "ffn"] }];
  }
  return sharing.groups.map((g) => ({ name: g.name, layers: [...new Set(g.layers)].sort((a, b) => a - b), share: g.share }));
}

function resolveObjective(name: ObjectiveName, options: Map<string, number>): Objective {
  const objective: Objective = { name, weight: options.get("weight") ?? DEFAULT_OBJECTIVE_OPTIONS["weight"]! };
  if (name === "distill") objective.temperature = options.get("temperature") ?? DEFAULT_OBJECTIVE_OPTIONS["temperature"]!;
  return objective;
}

function resolveMasking(get: <T>(path: string) => T): MaskingConfig {
  const unit = get<{ word: "token" | "word" | "ngram"; argument: number | null }>("masking.unit");
  const schedule = get<"static" | "dynamic">("masking.schedule");
  return {
    rate: get("masking.rate"),
    mask: get("masking.mask"),
    random: get("masking.random"),
    keep: get("masking.keep"),
    unit: unit.word === "ngram" ? { kind: "ngram", n: unit.argument ?? 1 } : { kind: unit.word },
    schedule: schedule === "static" ? { kind: "static", duplicates: get("masking.duplicates") } : { kind: "dynamic" },
  };
}

/**
 * Declared ids, or the default layout when none are declared. A partial declaration is
 * not topped up with defaults: a default id could silently collide with a declared one.
 */
function resolveSpecial(settings: Map<string, unknown>, reportMissing: (role: string) => void): Record<string, number> {
  const special: Record<string, number> = {};
  for (const [path, value] of settings) {
    if (path.startsWith("special.")) special[path.slice("special.".length)] = value as number;
  }
  if (Object.keys(special).length === 0) return { ...DEFAULT_SPECIAL };
  for (const role of Object.keys(DEFAULT_SPECIAL)) if (!(role in special)) reportMissing(role);
  return special;
}

function resolveTrain(get: <T>(path: string) => T): TrainConfig {
  return {
    optimizer: get<OptimizerKind>("train.optimizer"),
    lr: get("train.lr"),
    beta1: get("train.beta1"),
    beta2: get("train.beta2"),
    eps: get("train.eps"),
    weight_decay: get("train.weight_decay"),
    warmup: get("train.warmup"),
    decay: get<DecayKind>("train.decay"),
    batch: get("train.batch"),
    seq: get("train.seq"),
    steps: get("train.steps"),
  };
}
