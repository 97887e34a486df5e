/**
 * CST → AST. The only module that sees chevrotain's concrete syntax tree.
 *
 * After error recovery a CST node may lack tokens (or hold tokens invented by the
 * parser, with no position). Such a node is dropped: its syntax error has already been
 * reported, and later phases then only ever see complete nodes.
 */
import type { IToken } from "chevrotain";
import type * as A from "./ast.js";
import type * as C from "./cst.js";
import { Diag, diagnostic, type Diagnostic } from "../diagnostics.js";
import { spanOf, type Source, type Span } from "../source.js";

const SCALES: Record<string, number> = { K: 1e3, M: 1e6, B: 1e9 };

class Incomplete extends Error {}

export function toAst(cst: C.FileCstNode, source: Source, comments: readonly IToken[]): { ast: A.FileNode; diagnostics: Diagnostic[] } {
  const b = new AstBuilder(source);
  const items: (A.ImportDecl | A.ModelDecl)[] = [];
  for (const imp of cst.children.importDecl ?? []) b.keep(items, () => b.importDecl(imp));
  for (const model of cst.children.modelDecl ?? []) b.keep(items, () => b.modelDecl(model));
  items.sort((x, y) => x.span.start - y.span.start);
  const ast: A.FileNode = {
    kind: "File",
    source,
    items,
    comments: comments.map((t) => ({ text: t.image.replace(/\r$/, ""), span: b.span(t) })),
  };
  return { ast, diagnostics: b.diagnostics };
}

class AstBuilder {
  readonly diagnostics: Diagnostic[] = [];

  constructor(private readonly source: Source) {}

  /** Build a node and keep it, or drop it when recovery left it incomplete. */
  keep<T>(into: T[], build: () => T): void {
    try {
      into.push(build());
    } catch (e) {
      if (!(e instanceof Incomplete)) throw e;
    }
  }

  token(tokens: IToken[] | undefined, index = 0): IToken {
    const t = tokens?.[index];
    if (!t || t.isInsertedInRecovery || Number.isNaN(t.startOffset)) throw new Incomplete();
    return t;
  }

  span(first: IToken, last: IToken = first): Span {
    return spanOf(this.source, first.startOffset, (last.endOffset ?? last.startOffset) + 1);
  }

  join(a: Span, b: Span): Span {
    return spanOf(this.source, a.start, b.end);
  }

  name(t: IToken): A.Name {
    return { text: t.image, span: this.span(t) };
  }

  number(t: IToken): A.NumberLit {
    return { kind: "Number", value: Number(t.image), text: t.image, span: this.span(t) };
  }

  quantity(t: IToken): A.QuantityLit {
    const digits = t.image.slice(0, -1);
    const dot = digits.indexOf(".");
    return {
      kind: "Quantity",
      value: Number(digits),
      scale: SCALES[t.image.slice(-1)]!,
      decimals: dot < 0 ? 0 : digits.length - dot - 1,
      text: t.image,
      span: this.span(t),
    };
  }

  string(t: IToken): A.StringLit {
    // Unterminated strings (already reported) have no closing quote to strip.
    const closed = t.image.length >= 2 && t.image.endsWith('"');
    const body = t.image.slice(1, closed ? -1 : undefined);
    return { kind: "String", value: body.replace(/\\(.)/g, "$1"), span: this.span(t) };
  }

  importDecl(node: C.ImportDeclCstNode): A.ImportDecl {
    const kw = this.token(node.children.Import);
    const path = this.string(this.token(node.children.StringLiteral));
    return { kind: "Import", path, span: this.join(this.span(kw), path.span) };
  }

  modelDecl(node: C.ModelDeclCstNode): A.ModelDecl {
    const c = node.children;
    const kw = this.token(c.Model);
    const name = this.name(this.token(c.name));
    const base = c.base ? this.name(this.token(c.base)) : null;
    const members: A.Member[] = [];
    for (const m of c.member ?? []) this.keep(members, () => this.member(m));
    // A model whose closing brace was lost still counts, up to its last member.
    const close = c.RBrace?.[0];
    const end =
      close && !close.isInsertedInRecovery && !Number.isNaN(close.startOffset) ? this.span(close) : (members.at(-1)?.span ?? name.span);
    return { kind: "Model", name, base, members, span: this.join(this.span(kw), end) };
  }

  member(node: C.MemberCstNode): A.Member {
    const c = node.children;
    if (c.sharingDecl) return this.sharingDecl(c.sharingDecl[0]!);
    if (c.objectivesDecl) return this.objectivesDecl(c.objectivesDecl[0]!);
    if (c.teacherDecl) return this.teacherDecl(c.teacherDecl[0]!);
    if (c.expectDecl) return this.expectDecl(c.expectDecl[0]!);
    if (c.tokenizerDecl) return this.tokenizerDecl(c.tokenizerDecl[0]!);
    if (c.recordDecl) return this.recordDecl(c.recordDecl[0]!);
    if (c.setting) return this.setting(c.setting[0]!);
    throw new Incomplete();
  }

  recordDecl(node: C.RecordDeclCstNode): A.RecordBlock {
    const c = node.children;
    const name = this.name(this.token(c.Key));
    const settings: A.Setting[] = [];
    for (const s of c.setting ?? []) this.keep(settings, () => this.setting(s));
    const close = this.token(c.RBrace);
    return { kind: "Record", name, settings, span: this.join(name.span, this.span(close)) };
  }

  setting(node: C.SettingCstNode): A.Setting {
    const key = this.name(this.token(node.children.Key));
    if (!node.children.value) {
      this.diagnostics.push(diagnostic(Diag.MissingValue, key.span, [key.text]));
      throw new Incomplete();
    }
    const value = this.value(node.children.value[0]);
    return { kind: "Setting", key, value, span: this.join(key.span, value.span) };
  }

  value(node: C.ValueCstNode | undefined): A.Value {
    if (!node) throw new Incomplete();
    const c = node.children;
    if (c.number) {
      const from = this.number(this.token(c.number));
      if (c.DotDot) {
        const to = this.number(this.token(c.rangeEnd));
        return { kind: "Range", from, to, span: this.join(from.span, to.span) };
      }
      if (c.Arrow) {
        const to = this.number(this.token(c.rampTo));
        const over = this.count(c.rampOver?.[0]);
        return { kind: "Ramp", from, to, over, span: this.join(from.span, over.span) };
      }
      return from;
    }
    if (c.Quantity) return this.quantity(this.token(c.Quantity));
    if (c.word) {
      const name = this.name(this.token(c.word));
      const argument = c.argument ? this.number(this.token(c.argument)) : null;
      return { kind: "Word", name, argument, span: argument ? this.join(name.span, argument.span) : name.span };
    }
    if (c.StringLiteral) return this.string(this.token(c.StringLiteral));
    if (c.list) return this.list(c.list[0]!);
    throw new Incomplete();
  }

  count(node: C.CountCstNode | undefined): A.NumberLit | A.QuantityLit {
    if (!node) throw new Incomplete();
    if (node.children.Quantity) return this.quantity(this.token(node.children.Quantity));
    return this.number(this.token(node.children.NumberLiteral));
  }

  list(node: C.ListCstNode): A.ListLit {
    const c = node.children;
    const open = this.token(c.LBracket);
    const close = this.token(c.RBracket);
    const items = (c.NumberLiteral ?? []).map((t) => this.number(this.token([t])));
    return { kind: "List", items, span: this.join(this.span(open), this.span(close)) };
  }

  layerSet(node: C.LayerSetCstNode | undefined): A.LayerSet {
    if (!node) throw new Incomplete();
    const c = node.children;
    if (c.list) return this.list(c.list[0]!);
    const from = this.number(this.token(c.from));
    if (!c.DotDot) return from;
    const to = this.number(this.token(c.to));
    return { kind: "Range", from, to, span: this.join(from.span, to.span) };
  }

  sharingDecl(node: C.SharingDeclCstNode): A.SharingDecl {
    const c = node.children;
    const kw = this.span(this.token(c.Sharing));
    if (c.mode) {
      const mode = this.name(this.token(c.mode));
      return { kind: "Sharing", mode, groups: [], span: this.join(kw, mode.span) };
    }
    const groups: A.GroupDecl[] = [];
    for (const g of c.groupDecl ?? []) this.keep(groups, () => this.groupDecl(g));
    const close = this.token(c.RBrace);
    return { kind: "Sharing", mode: null, groups, span: this.join(kw, this.span(close)) };
  }

  groupDecl(node: C.GroupDeclCstNode): A.GroupDecl {
    const c = node.children;
    const kw = this.span(this.token(c.Group));
    const name = this.name(this.token(c.name));
    const layers = this.layerSet(c.layerSet?.[0]);
    const share = (c.part ?? []).map((t) => this.name(this.token([t])));
    if (share.length === 0) throw new Incomplete();
    return { kind: "Group", name, layers, share, span: this.join(kw, share.at(-1)!.span) };
  }

  objectivesDecl(node: C.ObjectivesDeclCstNode): A.ObjectivesDecl {
    const c = node.children;
    const kw = this.span(this.token(c.Objectives));
    const objectives: A.ObjectiveDecl[] = [];
    for (const o of c.objective ?? []) this.keep(objectives, () => this.objective(o));
    const close = this.token(c.RBrace);
    return { kind: "Objectives", objectives, span: this.join(kw, this.span(close)) };
  }

  objective(node: C.ObjectiveCstNode): A.ObjectiveDecl {
    const c = node.children;
    const name = this.name(this.token(c.name));
    if (c.Off) {
      const off = this.span(this.token(c.Off));
      return { kind: "Objective", name, off: true, options: [], span: this.join(name.span, off) };
    }
    const options: A.Setting[] = [];
    for (const o of c.objectiveOption ?? []) {
      this.keep(options, () => {
        const key = this.name(this.token(o.children.Key));
        const value = this.number(this.token(o.children.NumberLiteral));
        return { kind: "Setting", key, value, span: this.join(key.span, value.span) } satisfies A.Setting;
      });
    }
    const end = options.at(-1)?.span ?? name.span;
    return { kind: "Objective", name, off: false, options, span: this.join(name.span, end) };
  }

  teacherDecl(node: C.TeacherDeclCstNode): A.TeacherDecl {
    const c = node.children;
    const kw = this.span(this.token(c.Teacher));
    const model = this.name(this.token(c.model));
    const checkpoint = c.From ? this.string(this.token(c.StringLiteral)) : null;
    const inits: A.TeacherInit[] = [];
    for (const i of c.teacherInit ?? []) this.keep(inits, () => this.teacherInit(i));
    const hasBlock = c.LBrace !== undefined;
    const end = hasBlock ? this.span(this.token(c.RBrace)) : (checkpoint?.span ?? model.span);
    return { kind: "Teacher", model, checkpoint, inits, hasBlock, span: this.join(kw, end) };
  }

  teacherInit(node: C.TeacherInitCstNode): A.TeacherInit {
    const c = node.children;
    const kw = this.span(this.token(c.Init));
    const target = this.name(this.token(c.Layers ?? c.part));
    if (c.Off) return { kind: "Init", target, layers: null, off: true, span: this.join(kw, this.span(this.token(c.Off))) };
    if (c.Layers) {
      const layers = this.layerSet(c.layerSet?.[0]);
      return { kind: "Init", target, layers, off: false, span: this.join(kw, layers.span) };
    }
    return { kind: "Init", target, layers: null, off: false, span: this.join(kw, target.span) };
  }

  expectDecl(node: C.ExpectDeclCstNode): A.ExpectDecl {
    const c = node.children;
    const kw = this.span(this.token(c.Expect));
    const key = this.name(this.token(c.Key));
    const value = this.count(c.count?.[0]);
    return { kind: "Expect", key, value, span: this.join(kw, value.span) };
  }

  tokenizerDecl(node: C.TokenizerDeclCstNode): A.TokenizerDecl {
    const c = node.children;
    const kw = this.span(this.token(c.Tokenizer));
    const tokenizer = this.name(this.token(c.kind));
    const lower = c.Lowercase ? this.span(this.token(c.Lowercase)) : null;
    return { kind: "Tokenizer", tokenizer, lowercase: lower !== null, span: this.join(kw, lower ?? tokenizer.span) };
  }
}
