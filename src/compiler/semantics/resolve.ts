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
import { Diag, diagnostic, didYouMean, type Diagnostic } from "../diagnostics.js";
import {
  DEFAULT_ATTENTION,
  OBJECTIVE_ORDER,
  type AttentionConfig,
  type GeneratorConfig,
  type MaskingConfig,
  type Objective,
  type ObjectiveName,
  type ResolvedModel,
  type SharingGroup,
  type TeacherLink,
  type TrainConfig,
} from "../../model/model.js";
import { sharingAllGroup } from "../../model/sharing.js";
import type { ModelEntry, Program } from "./program.js";
import { DEFAULT_TOKENIZER, OBJECTIVES, PROPERTIES, RECORDS, REQUIRED_PROPERTIES, type PropertyPath, type ValueAt } from "./schema.js";
import type { Span } from "../source.js";
import { suggest } from "../suggest.js";

/** A merged setting, or its schema default where the chain never sets it. */
type Get = <P extends PropertyPath>(path: P) => ValueAt<P>;

export interface Resolution {
  model: ResolvedModel;
  entry: ModelEntry;
  /** Where each property path ("heads", "embeddings.factorize", "sharing", "objectives.distill", "teacher", …) was set. */
  origins: Map<string, Span>;
  /**
   * For each path of `origins`, how far down the extends chain the declaration that set it
   * is (0 = the root; the model itself is deepest), so checks can prefer the nearest line.
   */
  depths: Map<string, number>;
  /** The `sharing` declaration in effect (the nearest one), for checks that point at its groups. */
  sharing: DeclarationInfo["sharing"];
}

export interface ResolveResult {
  resolution: Resolution | null;
  diagnostics: Diagnostic[];
}

/**
 * What a model's chain of declarations sets, root first. A model's is its base's with its
 * own declaration applied, so each declaration is merged once however many models extend
 * it, and a chain of n models costs O(n), not O(n²).
 */
interface Merged {
  /** The model whose declaration was merged last. */
  name: string;
  settings: Map<string, unknown>;
  origins: Map<string, Span>;
  depths: Map<string, number>;
  /** Of this declaration: 0 for a model that extends nothing. */
  depth: number;
  sharing: DeclarationInfo["sharing"];
  objectives: Map<ObjectiveName, Map<string, number>>;
  teacher: TeacherLink | null;
  tokenizer: ResolvedModel["tokenizer"];
  /** The models extended, nearest first, as a linked list shared with the base's. */
  lineage: Lineage | null;
}

interface Lineage {
  name: string;
  next: Lineage | null;
}

/** A chain that cannot be merged (unknown base, cycle): the diagnostic, shared by every model below it. */
interface Broken {
  diagnostics: Diagnostic[];
}

/** Resolves models of one program, reading and merging each declaration once. */
export class Resolver {
  private readonly declarations = new Map<ModelEntry, DeclarationInfo>();
  private readonly merged = new Map<ModelEntry, Merged | Broken>();
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
      const leaf = this.program.models.get(name);
      result = leaf ? this.finish(leaf) : { resolution: null, diagnostics: [] };
      this.results.set(name, result);
    }
    return result;
  }

  private finish(leaf: ModelEntry): ResolveResult {
    const merged = this.mergedOf(leaf);
    if ("diagnostics" in merged) return { resolution: null, diagnostics: merged.diagnostics };
    const diagnostics: Diagnostic[] = [];
    const resolution = complete(leaf, this.declaration(leaf), merged, diagnostics);
    return { resolution, diagnostics };
  }

  /**
   * Walks up from `leaf` to the nearest model already merged (or the root), then merges
   * back down, recording every model on the way. Iterative, so a chain of any length
   * fits in the stack; reports unknown bases (with "did you mean") and cycles.
   */
  private mergedOf(leaf: ModelEntry): Merged | Broken {
    const path: ModelEntry[] = [];
    const onPath = new Set<ModelEntry>();
    let above: Merged | Broken | null = null;
    for (let current: ModelEntry | undefined = leaf; current;) {
      const known = this.merged.get(current);
      if (known) {
        above = known;
        break;
      }
      if (onPath.has(current)) {
        above = this.cycle(path.slice(path.indexOf(current)));
        break;
      }
      onPath.add(current);
      path.push(current);
      const base = current.decl.base;
      if (!base) break;
      current = this.program.models.get(base.text);
      if (!current) {
        const hint = suggest(base.text, this.program.models.keys());
        above = {
          diagnostics: [diagnostic(Diag.UnknownModel, base.span, [base.text, didYouMean(hint)], hint ? { suggestion: hint } : {})],
        };
      }
    }
    for (let i = path.length - 1; i >= 0; i--) {
      const entry = path[i]!;
      const result: Merged | Broken = above !== null && "diagnostics" in above ? above : extend(above, this.declaration(entry));
      this.merged.set(entry, result);
      above = result;
    }
    return above!;
  }

  /**
   * One diagnostic for a cycle, whichever member was resolved first: at the `extends` of
   * the member declared first, naming the cycle from there.
   */
  private cycle(members: ModelEntry[]): Broken {
    const rank = new Map([...this.program.models.values()].map((e, i) => [e, i]));
    const first = members.reduce((a, b) => (rank.get(b)! < rank.get(a)! ? b : a));
    const at = members.indexOf(first);
    // Each member extends the next one on the path: the cycle from `first`'s base round to it again.
    const order = [...members.slice(at + 1), ...members.slice(0, at + 1)];
    const names = [...order, order[0]!].map((e) => e.decl.name.text);
    return { diagnostics: [diagnostic(Diag.ExtendsCycle, first.decl.base!.span, [names.join(" -> ")])] };
  }
}

/** `base`'s settings (nothing, for a root) with one more declaration applied on top. */
function extend(base: Merged | null, info: DeclarationInfo): Merged {
  const depth = base ? base.depth + 1 : 0;
  const m: Merged = {
    name: info.decl.name.text,
    settings: new Map(base?.settings),
    origins: new Map(base?.origins),
    depths: new Map(base?.depths),
    depth,
    sharing: base?.sharing ?? null,
    objectives: new Map([...(base?.objectives ?? [])].map(([name, options]) => [name, new Map(options)])),
    teacher: base?.teacher ?? null,
    tokenizer: base?.tokenizer ?? { ...DEFAULT_TOKENIZER },
    lineage: base ? { name: base.name, next: base.lineage } : null,
  };
  const setOrigin = (path: string, span: Span): void => {
    m.origins.set(path, span);
    m.depths.set(path, depth);
  };
  for (const [path, set] of info.settings) {
    m.settings.set(path, set.value);
    setOrigin(path, set.span);
  }
  if (info.sharing) {
    m.sharing = info.sharing;
    setOrigin("sharing", info.sharing.span);
  }
  for (const o of info.objectives) {
    setOrigin(`objectives.${o.name}`, o.span);
    if (o.off) {
      m.objectives.delete(o.name);
      continue;
    }
    const options = m.objectives.get(o.name) ?? new Map<string, number>();
    for (const [k, v] of o.options) {
      options.set(k, v.value as number);
      setOrigin(`objectives.${o.name}.${k}`, v.span);
    }
    m.objectives.set(o.name, options);
  }
  if (info.teacher) {
    const t = info.teacher;
    const teacher = m.teacher;
    // What the link copies is inherited unless this declaration says otherwise (`off` included).
    m.teacher = {
      model: t.model.text,
      checkpoint: t.checkpoint ?? teacher?.checkpoint ?? null,
      initLayers: t.initLayers ? t.initLayers.layers : (teacher?.initLayers ?? null),
      initEmbeddings: t.initEmbeddings ? !t.initEmbeddings.off : (teacher?.initEmbeddings ?? false),
    };
    setOrigin("teacher", t.model.span);
    if (t.initLayers) setOrigin("teacher.initLayers", t.initLayers.span);
    if (t.initEmbeddings) setOrigin("teacher.initEmbeddings", t.initEmbeddings.span);
  }
  if (info.tokenizer) {
    m.tokenizer = { kind: info.tokenizer.kind, lowercase: info.tokenizer.lowercase };
    setOrigin("tokenizer", info.tokenizer.span);
  }
  return m;
}

/** The `generator` record, present when the chain writes any of it; its sizes but `layers` must be written. */
function resolveGenerator(
  settings: ReadonlyMap<string, unknown>,
  get: Get,
  layers: number,
  missing: (key: string) => void,
): { generator?: GeneratorConfig } {
  const keys = ["hidden", "layers", "heads", "intermediate"] as const;
  if (!keys.some((k) => settings.has(`generator.${k}`))) return {};
  const required = keys.filter((k) => k !== "layers" && !settings.has(`generator.${k}`));
  for (const k of required) missing(k);
  if (required.length > 0) return {};
  return {
    generator: {
      hidden: get("generator.hidden")!,
      layers: get("generator.layers") ?? layers,
      heads: get("generator.heads")!,
      intermediate: get("generator.intermediate")!,
    },
  };
}

/** The `attention` record, stored only when it differs from BERT's (see ResolvedModel.attention). */
function resolveAttention(get: Get): { attention?: AttentionConfig } {
  const attention: AttentionConfig = {
    rotary: get("attention.rotary"),
    window: get("attention.window"),
    global_every: get("attention.global_every"),
    local_rotary: get("attention.local_rotary"),
  };
  const isDefault = (Object.keys(DEFAULT_ATTENTION) as (keyof AttentionConfig)[]).every((k) => attention[k] === DEFAULT_ATTENTION[k]);
  return isDefault ? {} : { attention };
}

/** The resolved model of `leaf`, whose chain merged to `merged`: defaults filled in, required properties checked. */
function complete(leaf: ModelEntry, leafInfo: DeclarationInfo, merged: Merged, diagnostics: Diagnostic[]): Resolution | null {
  const { settings } = merged;
  const missing = REQUIRED_PROPERTIES.filter((p) => !settings.has(p));
  for (const p of missing) diagnostics.push(diagnostic(Diag.MissingProperty, leaf.decl.name.span, [leaf.decl.name.text, p]));
  if (missing.length > 0) return null;

  const get: Get = (path) =>
    // `readDeclaration` stored under each path the value that path's schema entry read, and
    // the required properties (the ones without a default) are set: the value has its entry's type.
    (settings.has(path) ? settings.get(path) : PROPERTIES.get(path)?.default) as ValueAt<typeof path>;
  const layers = get("layers");
  const { objectives } = merged;

  const model: ResolvedModel = {
    name: leaf.decl.name.text,
    file: leaf.file.source.path,
    bases: [],
    vocab: get("vocab"),
    hidden: get("hidden"),
    layers,
    heads: get("heads"),
    intermediate: get("intermediate"),
    activation: get("activation"),
    norm_eps: get("norm_eps"),
    // Only `pre` is stored (see ResolvedModel.norm_position).
    ...(get("norm_position") === "pre" ? { norm_position: "pre" as const } : {}),
    ...(get("feed_forward") === "gated" ? { feed_forward: "gated" as const } : {}),
    // Only `false` is stored (see ResolvedModel.attention_bias).
    ...(get("attention_bias") === "false" ? { attention_bias: false as const } : {}),
    ...(get("mlp_bias") === "false" ? { mlp_bias: false as const } : {}),
    ...(get("norm_bias") === "false" ? { norm_bias: false as const } : {}),
    ...(get("classifier_bias") === "false" ? { classifier_bias: false as const } : {}),
    ...(get("decoder_bias") === "false" ? { decoder_bias: false as const } : {}),
    ...(get("first_attention_norm") === "false" ? { first_attention_norm: false as const } : {}),
    ...resolveGenerator(settings, get, layers, (key) =>
      diagnostics.push(diagnostic(Diag.MissingProperty, leaf.decl.name.span, [leaf.decl.name.text, `generator ${key}`])),
    ),
    ...resolveAttention(get),
    dropout: get("dropout"),
    attention_dropout: get("attention_dropout"),
    pooler: get("pooler"),
    embeddings: {
      positions: get("embeddings.positions"),
      offset: get("embeddings.offset"),
      segments: get("embeddings.segments"),
      factorize: get("embeddings.factorize"),
    },
    sharing: resolveSharing(merged.sharing, layers),
    objectives: OBJECTIVE_ORDER.filter((n) => objectives.has(n)).map((n) => resolveObjective(n, objectives.get(n)!)),
    masking: resolveMasking(get),
    teacher: merged.teacher,
    tokenizer: merged.tokenizer,
    special: resolveSpecial(settings, get, (role) =>
      diagnostics.push(diagnostic(Diag.MissingProperty, leaf.decl.name.span, [leaf.decl.name.text, `special ${role}`])),
    ),
    train: resolveTrain(get),
    expect: leafInfo.expect.map((e) => e.expectation),
  };
  defineBases(model, merged.lineage);
  const origins = new Map(merged.origins);
  const depths = new Map(merged.depths);
  for (const e of leafInfo.expect) {
    origins.set(`expect.${e.expectation.key}`, e.span);
    depths.set(`expect.${e.expectation.key}`, merged.depth);
  }
  origins.set("model", leaf.decl.name.span);
  depths.set("model", merged.depth);
  return { model, entry: leaf, origins, depths, sharing: merged.sharing };
}

/**
 * `model.bases`, the names of the models it extends, is made when first read (printing,
 * saving): a list per model, made for every model of a long chain, would cost O(n²).
 */
function defineBases(model: ResolvedModel, lineage: Lineage | null): void {
  Object.defineProperty(model, "bases", {
    enumerable: true,
    configurable: true,
    get() {
      const names: string[] = [];
      for (let l = lineage; l; l = l.next) names.push(l.name);
      Object.defineProperty(model, "bases", { value: names, enumerable: true, configurable: true, writable: true });
      return names;
    },
  });
}

function resolveSharing(sharing: DeclarationInfo["sharing"], layers: number): SharingGroup[] {
  if (!sharing) return [];
  if (sharing.mode !== "groups") {
    if (sharing.mode === "none") return [];
    // `sharing all` means every layer of the resolved model, however many a later `extends` sets.
    return [sharingAllGroup(layers)];
  }
  return sharing.groups.map((g) => ({ name: g.name, layers: [...new Set(g.layers)].sort((a, b) => a - b), share: g.share }));
}

function resolveObjective(name: ObjectiveName, options: Map<string, number>): Objective {
  const weight = options.get("weight") ?? OBJECTIVES[name].weight.default;
  if (name === "distill") return { name, weight, temperature: options.get("temperature") ?? OBJECTIVES.distill.temperature.default };
  return { name, weight };
}

function resolveMasking(get: Get): MaskingConfig {
  const unit = get("masking.unit");
  const schedule = get("masking.schedule");
  return {
    rate: get("masking.rate"),
    mask: get("masking.mask"),
    random: get("masking.random"),
    keep: get("masking.keep"),
    unit:
      unit.word === "ngram"
        ? { kind: "ngram", n: unit.argument ?? 1 }
        : unit.word === "span"
          ? { kind: "span", p: get("masking.p"), max: get("masking.max") }
          : { kind: unit.word },
    schedule: schedule === "static" ? { kind: "static", duplicates: get("masking.duplicates") } : { kind: "dynamic" },
  };
}

/**
 * Declared ids, or the default layout when none are declared. A partial declaration is
 * not topped up with defaults: a default id could silently collide with a declared one.
 */
function resolveSpecial(settings: Map<string, unknown>, get: Get, reportMissing: (role: string) => void): Record<string, number> {
  const special: Record<string, number> = {};
  // In the order the chain set them, which is the order they are printed and saved in.
  for (const path of settings.keys()) {
    const role = path.startsWith("special.") ? path.slice("special.".length) : "";
    if (isSpecialRole(role)) special[role] = get(`special.${role}`);
  }
  const defaulted = Object.entries(RECORDS.special).flatMap(([role, p]) => (p.default === undefined ? [] : [[role, p.default] as const]));
  if (Object.keys(special).length === 0) return Object.fromEntries(defaulted);
  for (const [role] of defaulted) if (!(role in special)) reportMissing(role);
  return special;
}

function isSpecialRole(role: string): role is keyof typeof RECORDS.special {
  return Object.hasOwn(RECORDS.special, role);
}

function resolveTrain(get: Get): TrainConfig {
  return {
    optimizer: get("train.optimizer"),
    lr: get("train.lr"),
    beta1: get("train.beta1"),
    beta2: get("train.beta2"),
    eps: get("train.eps"),
    weight_decay: get("train.weight_decay"),
    warmup: get("train.warmup"),
    decay: get("train.decay"),
    batch: get("train.batch"),
    seq: get("train.seq"),
    steps: get("train.steps"),
    ...(get("train.document_mask") === "true" ? { document_mask: true as const } : {}),
  };
}
