/**
 * One model declaration read against the schema, before `extends` is applied: which
 * properties it sets (with the span that set each), and what it says about sharing,
 * objectives, teacher, tokenizer and expectations. Problems local to the declaration
 * (unknown keys, wrong value types, unknown words) are reported here, once, however
 * many models extend it.
 */
import type * as A from "../syntax/ast.js";
import { Diag, diagnostic, didYouMean, type Diagnostic } from "../diagnostics.js";
import { OBJECTIVE_ORDER, type Expectation, type ObjectiveName, type SharedPart, type TokenizerKind } from "../../model/model.js";
import {
  EXPECT_KEYS,
  isOneOf,
  MEMBER_NAMES,
  MODEL_PROPERTIES,
  OBJECTIVES,
  RECORDS,
  SHARED_PARTS,
  SHARING_MODES,
  ownEntry,
  TEACHER_INITS,
  TOKENIZERS,
  type Problem,
  type Property,
  type PropertyType,
} from "./schema.js";
import type { Span } from "../source.js";
import { suggest } from "../suggest.js";

export interface SetValue {
  value: unknown;
  span: Span;
}

export interface GroupInfo {
  name: string;
  layers: number[];
  share: SharedPart[];
  decl: A.GroupDecl;
}

export type SharingMode = (typeof SHARING_MODES)[number];

export type SharingInfo = { mode: SharingMode; span: Span } | { mode: "groups"; groups: GroupInfo[]; span: Span };

export type ObjectiveInfo =
  { name: ObjectiveName; off: true; span: Span } | { name: ObjectiveName; off: false; options: Map<string, SetValue>; span: Span };

export interface TeacherInfo {
  model: A.Name;
  checkpoint: string | null;
  /** `layers` null: `init layers off`. */
  initLayers: { layers: number[] | null; span: Span } | null;
  /** `off`: `init embeddings off`. */
  initEmbeddings: { off: boolean; span: Span } | null;
  span: Span;
}

export interface DeclarationInfo {
  decl: A.ModelDecl;
  /** "vocab", "embeddings.factorize", "train.lr", … → value and where it was written. */
  settings: Map<string, SetValue>;
  sharing: SharingInfo | null;
  objectives: ObjectiveInfo[];
  teacher: TeacherInfo | null;
  tokenizer: { kind: TokenizerKind; lowercase: boolean; span: Span } | null;
  expect: { expectation: Expectation; span: Span }[];
  diagnostics: Diagnostic[];
}

export function readDeclaration(decl: A.ModelDecl): DeclarationInfo {
  const info: DeclarationInfo = {
    decl,
    settings: new Map(),
    sharing: null,
    objectives: [],
    teacher: null,
    tokenizer: null,
    expect: [],
    diagnostics: [],
  };
  const reader = new DeclarationReader(info);
  for (const member of decl.members) reader.member(member);
  return info;
}

class DeclarationReader {
  constructor(private readonly info: DeclarationInfo) {}

  private report(d: Diagnostic): void {
    this.info.diagnostics.push(d);
  }

  member(m: A.Member): void {
    switch (m.kind) {
      case "Setting":
        return this.modelSetting(m);
      case "Record":
        return this.record(m);
      case "Sharing":
        return this.sharing(m);
      case "Objectives":
        return this.objectives(m);
      case "Teacher":
        return this.teacher(m);
      case "Expect":
        return this.expectation(m);
      case "Tokenizer":
        return this.tokenizer(m);
    }
  }

  private modelSetting(s: A.Setting): void {
    const key = s.key.text;
    if (Object.hasOwn(RECORDS, key)) {
      this.report(diagnostic(Diag.WrongValueType, s.value.span, [key, "a block { … }", describeShort(s.value)]));
      return;
    }
    const type = ownEntry<Property>(MODEL_PROPERTIES, key)?.type;
    if (!type) {
      const hint = suggest(key, MEMBER_NAMES);
      this.report(
        diagnostic(
          Diag.UnknownProperty,
          s.key.span,
          [key, `model '${this.info.decl.name.text}'`, didYouMean(hint)],
          hint ? { suggestion: hint } : {},
        ),
      );
      return;
    }
    this.store(key, key, type, s, this.info.settings);
  }

  private record(r: A.RecordBlock): void {
    const name = r.name.text;
    const schema = ownEntry<Readonly<Record<string, Property>>>(RECORDS, name);
    if (!schema) {
      if (Object.hasOwn(MODEL_PROPERTIES, name)) {
        this.report(diagnostic(Diag.WrongValueType, r.name.span, [name, "a value", "a block"]));
        return;
      }
      const hint = suggest(name, Object.keys(RECORDS));
      this.report(diagnostic(Diag.UnknownBlock, r.name.span, [name, didYouMean(hint)], hint ? { suggestion: hint } : {}));
      return;
    }
    const seen = new Map<string, SetValue>();
    for (const s of r.settings) {
      const type = ownEntry(schema, s.key.text)?.type;
      if (!type) {
        const hint = suggest(s.key.text, Object.keys(schema));
        this.report(
          diagnostic(Diag.UnknownProperty, s.key.span, [s.key.text, `'${name}'`, didYouMean(hint)], hint ? { suggestion: hint } : {}),
        );
        continue;
      }
      this.store(s.key.text, `${name}.${s.key.text}`, type, s, seen);
    }
    for (const [k, v] of seen) this.info.settings.set(`${name}.${k}`, v);
    const schedule = seen.get("schedule");
    const duplicates = seen.get("duplicates");
    if (name === "masking" && schedule?.value === "dynamic" && duplicates) {
      this.report(diagnostic(Diag.DuplicatesWithDynamic, duplicates.span));
    }
    const unit = seen.get("unit")?.value as { word: string } | undefined;
    if (name === "masking" && unit && unit.word !== "span") {
      for (const key of ["p", "max"]) {
        const setting = seen.get(key);
        if (setting) this.report(diagnostic(Diag.SpanSettingWithoutSpan, setting.span, [key, unit.word]));
      }
    }
  }

  /** Read `s.value` as `type`; report a problem, or a duplicate key, against the written value. */
  private store(key: string, label: string, type: PropertyType, s: A.Setting, into: Map<string, SetValue>): void {
    const read = type.read(s.value);
    if (!read.ok) {
      this.report(problemDiagnostic(label, read.problem, s.value.span));
      return;
    }
    if (into.has(key)) this.report(diagnostic(Diag.DuplicateProperty, s.key.span, [label]));
    into.set(key, { value: read.value, span: s.span });
  }

  private sharing(s: A.SharingDecl): void {
    if (s.mode) {
      const mode = s.mode.text;
      if (!isOneOf(mode, SHARING_MODES)) {
        const hint = suggest(mode, SHARING_MODES);
        this.report(diagnostic(Diag.BadSharingMode, s.mode.span, [mode, didYouMean(hint)], hint ? { suggestion: hint } : {}));
        return;
      }
      this.info.sharing = { mode, span: s.span };
      return;
    }
    const groups: GroupInfo[] = [];
    for (const g of s.groups) {
      const share: SharedPart[] = [];
      for (const part of g.share) {
        const word = part.text;
        if (isOneOf(word, SHARED_PARTS)) {
          if (!share.includes(word)) share.push(word);
        } else {
          const hint = suggest(part.text, SHARED_PARTS);
          this.report(diagnostic(Diag.UnknownSharedPart, part.span, [part.text, didYouMean(hint)], hint ? { suggestion: hint } : {}));
        }
      }
      const layers = this.layerSet(g.layers, "sharing group layers");
      if (layers && share.length > 0) groups.push({ name: g.name.text, layers, share, decl: g });
    }
    this.info.sharing = { mode: "groups", groups, span: s.span };
  }

  /** `0..5`, `[0, 2, 4]` or `3` → ascending distinct indices; null after reporting a problem. */
  private layerSet(set: A.LayerSet, what: string): number[] | null {
    if (set.kind === "Number") return this.layerIndex(set, what) === null ? null : [set.value];
    if (set.kind === "List") {
      const out: number[] = [];
      for (const item of set.items) {
        if (this.layerIndex(item, what) === null) return null;
        out.push(item.value);
      }
      return out;
    }
    if (this.layerIndex(set.from, what) === null || this.layerIndex(set.to, what) === null) return null;
    if (set.to.value < set.from.value) {
      this.report(diagnostic(Diag.ValueOutOfRange, set.span, [what, "an ascending range", `${set.from.text}..${set.to.text}`]));
      return null;
    }
    return Array.from({ length: set.to.value - set.from.value + 1 }, (_, i) => set.from.value + i);
  }

  private layerIndex(n: A.NumberLit, what: string): number | null {
    if (!Number.isInteger(n.value) || n.value < 0 || n.value > 10_000) {
      this.report(diagnostic(Diag.ValueOutOfRange, n.span, [what, "layer indices (integers ≥ 0)", n.text]));
      return null;
    }
    return n.value;
  }

  private objectives(o: A.ObjectivesDecl): void {
    for (const obj of o.objectives) {
      const name = obj.name.text;
      if (!isOneOf(name, OBJECTIVE_ORDER)) {
        const hint = suggest(name, Object.keys(OBJECTIVES));
        this.report(diagnostic(Diag.UnknownObjective, obj.name.span, [name, didYouMean(hint)], hint ? { suggestion: hint } : {}));
        continue;
      }
      const schema: Readonly<Record<string, Property>> = OBJECTIVES[name];
      // A later mention of the same objective in the same declaration replaces the earlier one.
      this.info.objectives = this.info.objectives.filter((x) => x.name !== name);
      if (obj.off) {
        this.info.objectives.push({ name, off: true, span: obj.span });
        continue;
      }
      const options = new Map<string, SetValue>();
      for (const opt of obj.options) {
        const type = ownEntry(schema, opt.key.text)?.type;
        if (!type) {
          const hint = suggest(opt.key.text, Object.keys(schema));
          this.report(
            diagnostic(Diag.UnknownObjectiveOption, opt.key.span, [name, opt.key.text, didYouMean(hint)], hint ? { suggestion: hint } : {}),
          );
          continue;
        }
        this.store(opt.key.text, `${name} ${opt.key.text}`, type, opt, options);
      }
      this.info.objectives.push({ name, off: false, options, span: obj.span });
    }
  }

  private teacher(t: A.TeacherDecl): void {
    let initLayers: TeacherInfo["initLayers"] = null;
    let initEmbeddings: TeacherInfo["initEmbeddings"] = null;
    for (const init of t.inits) {
      const target = init.target.text;
      if (target === "layers" && init.off) {
        initLayers = { layers: null, span: init.span };
      } else if (init.layers) {
        const layers = this.layerSet(init.layers, "init layers");
        if (layers) initLayers = { layers, span: init.layers.span };
      } else if (target === "embeddings") {
        initEmbeddings = { off: init.off, span: init.span };
      } else {
        const hint = suggest(target, TEACHER_INITS);
        this.report(
          diagnostic(
            Diag.UnknownProperty,
            init.target.span,
            [target, "'teacher { init … }'", didYouMean(hint)],
            hint ? { suggestion: hint } : {},
          ),
        );
      }
    }
    this.info.teacher = { model: t.model, checkpoint: t.checkpoint?.value ?? null, initLayers, initEmbeddings, span: t.span };
  }

  private expectation(e: A.ExpectDecl): void {
    const key = e.key.text;
    if (!isOneOf(key, EXPECT_KEYS)) {
      const hint = suggest(key, EXPECT_KEYS);
      this.report(diagnostic(Diag.UnknownExpectKey, e.key.span, [key, didYouMean(hint)], hint ? { suggestion: hint } : {}));
      return;
    }
    const v = e.value;
    const expectation: Expectation =
      v.kind === "Quantity"
        ? { key, text: v.text, value: v.value, scale: v.scale, decimals: v.decimals }
        : { key, text: v.text, value: v.value, scale: 1, decimals: 0 };
    if (v.kind === "Number" && (!Number.isInteger(v.value) || v.value < 0)) {
      this.report(diagnostic(Diag.ValueOutOfRange, v.span, [`expect ${key}`, "a whole count such as 19M or 18969020", v.text]));
      return;
    }
    this.info.expect.push({ expectation, span: e.span });
  }

  private tokenizer(t: A.TokenizerDecl): void {
    const kind = t.tokenizer.text;
    if (!isOneOf(kind, TOKENIZERS)) {
      const hint = suggest(kind, TOKENIZERS);
      this.report(
        diagnostic(
          Diag.UnknownValue,
          t.tokenizer.span,
          [kind, `tokenizer (${TOKENIZERS.join(" | ")})`, didYouMean(hint)],
          hint ? { suggestion: hint } : {},
        ),
      );
      return;
    }
    this.info.tokenizer = { kind, lowercase: t.lowercase, span: t.span };
  }
}

function describeShort(v: A.Value): string {
  return v.kind === "Word" ? `'${v.name.text}'` : v.kind === "Number" ? v.text : `a ${v.kind.toLowerCase()}`;
}

export function problemDiagnostic(label: string, p: Problem, span: Span): Diagnostic {
  switch (p.kind) {
    case "type":
      return diagnostic(Diag.WrongValueType, span, [label, p.expected, p.got]);
    case "range":
      return diagnostic(Diag.ValueOutOfRange, span, [label, p.expected, p.got]);
    case "unknown": {
      const hint = suggest(p.got, p.options);
      const tail = `${hint ? ` Did you mean '${hint}'?` : ""} Expected one of: ${p.options.join(", ")}.`;
      return diagnostic(Diag.UnknownValue, span, [p.got, p.what, tail], hint ? { suggestion: hint } : {});
    }
  }
}
