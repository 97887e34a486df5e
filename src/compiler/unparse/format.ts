/**
 * The canonical formatter behind `bdlc fmt`: AST (+ its comments) → text. It never looks
 * at tokens; it reprints every node from the AST and places comments by their offsets, so
 * it cannot change what a file means, and it refuses files with syntax errors (recovery may
 * have dropped tokens, and formatting must never lose what the user wrote).
 *
 * The canonical layout:
 *   - Indentation is 2 spaces per block level; tokens are separated by one space; `{` ends
 *     the line of its owner and `}` stands on its own line, aligned with the owner.
 *   - A member block (`embeddings`, `masking`, `special`, `train`, `sharing`, `objectives`,
 *     `teacher`) that was written on one line stays on one line: `embeddings { factorize 128 }`.
 *     (A one-line block cannot hold a comment: a comment runs to the end of the line.)
 *     Model bodies are always expanded. A block with nothing in it and no comment prints as
 *     `name {}`.
 *   - Members written on the same source line stay on one line, joined by one space
 *     (`mask 0.8 random 0.1 keep 0.1`); otherwise one member per line. A member spanning
 *     several lines is joined onto one. Imports always get a line each.
 *   - Blank lines between members are kept, at most one; never after `{` or before `}`.
 *     Top-level items are separated by exactly one blank line, except that consecutive
 *     imports keep what was written (none or one). No blank line starts the file; it ends
 *     with exactly one newline; no line has trailing whitespace.
 *   - Comments are never dropped and never reordered. A comment on its own line stays on its
 *     own line, re-indented, before what followed it (or before the `}` that closes its block,
 *     or at the end of the file). A trailing comment stays after the code it followed,
 *     including after `{` and after `}`. A comment written inside a construct that prints on
 *     one line (between `teacher bert` and `from "…"` on the next line, say) moves to its own
 *     line just before that construct. Trailing whitespace inside a comment is dropped.
 *   - Trailing comments are aligned gofmt-style: a run is a stretch of consecutive one-line
 *     members of one block, broken by a blank line, a comment-only line, or a block that spans
 *     lines (its `{` and `}` lines are in no run); in each run every trailing `//` goes at
 *     column (widest code + 2), 1-based, i.e. one space after the widest code among the run's
 *     lines that carry a trailing comment. A comment after `{` or `}` sits one space after it.
 *   - Values print as written: numbers and counts keep their text (`1e-12`, `0.15`, `19M`),
 *     strings are double-quoted with `\` and `"` escaped, lists print as `[0, 2, 4]`, ranges
 *     as `0..11`, ramps as `0.15 -> 0.4 over 100000`.
 *
 * Formatting is idempotent: every decision above depends only on things the output
 * reproduces (which members share a line, where blank lines are, whether a comment trails).
 */
import type * as A from "../syntax/ast.js";
import { hasErrors, type Diagnostic } from "../diagnostics.js";
import { parseSource } from "../syntax/parse.js";
import { lineCol, type Source } from "../source.js";

export interface FormatResult {
  /** The formatted text; absent when the file has syntax errors and was not formatted. */
  text?: string;
  /** Syntax diagnostics of the input (empty for a clean file). */
  diagnostics: Diagnostic[];
}

/** Parse and format; refuses (text null) when the file has lexical or syntax errors. */
export function formatSource(source: Source): FormatResult {
  const { ast, diagnostics } = parseSource(source);
  if (hasErrors(diagnostics)) return { diagnostics };
  return { text: formatFile(ast), diagnostics };
}

/** The canonical text of a file parsed without syntax errors. */
export function formatFile(ast: A.FileNode): string {
  return new Formatter(ast).run();
}

/** A string literal whose value, read back by the lexer, is `value`. */
export function quoteString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

// ---------------------------------------------------------------------------------------
// Values and one-line constructs

export function valueText(v: A.Value): string {
  switch (v.kind) {
    case "Number":
    case "Quantity":
      return v.text;
    case "String":
      return quoteString(v.value);
    case "Range":
      return `${v.from.text}..${v.to.text}`;
    case "List":
      return `[${v.items.map((i) => i.text).join(", ")}]`;
    case "Ramp":
      return `${v.from.text} -> ${v.to.text} over ${v.over.text}`;
    case "Word":
      return v.argument ? `${v.name.text} ${v.argument.text}` : v.name.text;
  }
}

function settingText(s: A.Setting): string {
  return `${s.key.text} ${valueText(s.value)}`;
}

function objectiveText(o: A.ObjectiveDecl): string {
  if (o.off) return `${o.name.text} off`;
  return [o.name.text, ...o.options.map(settingText)].join(" ");
}

function groupText(g: A.GroupDecl): string {
  return `group ${g.name.text} layers ${valueText(g.layers)} share ${g.share.map((p) => p.text).join(" ")}`;
}

function initText(i: A.TeacherInit): string {
  if (i.off) return `init ${i.target.text} off`;
  return i.layers ? `init ${i.target.text} ${valueText(i.layers)}` : `init ${i.target.text}`;
}

function teacherHead(t: A.TeacherDecl): string {
  return t.checkpoint ? `teacher ${t.model.text} from ${quoteString(t.checkpoint.value)}` : `teacher ${t.model.text}`;
}

// ---------------------------------------------------------------------------------------
// Layout units: what prints on one line (a leaf) and what may span lines (a block)

interface Leaf {
  readonly kind: "leaf";
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly isImport: boolean;
}

interface Block {
  readonly kind: "block";
  /** Everything before `{`. */
  readonly header: string;
  readonly start: number;
  /** Offsets of `{` and `}` in the source. */
  readonly open: number;
  readonly close: number;
  readonly end: number;
  readonly children: readonly Unit[];
  /** Model bodies never stay on one line. */
  readonly isModel: boolean;
}

type Unit = Leaf | Block;

type Line =
  | { kind: "blank" }
  | { kind: "comment"; depth: number; text: string }
  | { kind: "code"; depth: number; code: string; comment: string | null; aligned: boolean };

class Formatter {
  private readonly text: string;
  private readonly comments: readonly A.Comment[];
  private readonly placed = new Set<A.Comment>();
  private readonly lines: Line[] = [];

  constructor(private readonly ast: A.FileNode) {
    this.text = ast.source.text;
    this.comments = [...ast.comments].sort((a, b) => a.span.start - b.span.start);
  }

  run(): string {
    const units = this.ast.items.map((item) => (item.kind === "Import" ? this.importUnit(item) : this.modelUnit(item)));
    this.sequence(units, 0, this.text.length, 0, true);
    const missing = this.comments.filter((c) => !this.placed.has(c));
    if (missing.length > 0) {
      // Never drop user text: a comment we could not place is a bug in this module.
      throw new Error(`internal error: formatter could not place comment '${missing[0]!.text}'`);
    }
    return this.render();
  }

  // --- building units ------------------------------------------------------------------

  private leaf(text: string, node: { span: { start: number; end: number } }, isImport = false): Leaf {
    return { kind: "leaf", text, start: node.span.start, end: node.span.end, isImport };
  }

  private block(
    header: string,
    node: { span: { start: number; end: number } },
    headerEnd: number,
    children: Unit[],
    isModel = false,
  ): Block {
    const close = node.span.end - 1;
    return {
      kind: "block",
      header,
      start: node.span.start,
      open: this.findOpenBrace(headerEnd),
      close,
      end: node.span.end,
      children,
      isModel,
    };
  }

  private importUnit(i: A.ImportDecl): Leaf {
    return this.leaf(`import ${quoteString(i.path.value)}`, i, true);
  }

  private modelUnit(m: A.ModelDecl): Block {
    const header = m.base ? `model ${m.name.text} extends ${m.base.text}` : `model ${m.name.text}`;
    const headerEnd = (m.base ?? m.name).span.end;
    return this.block(
      header,
      m,
      headerEnd,
      m.members.map((member) => this.memberUnit(member)),
      true,
    );
  }

  private memberUnit(m: A.Member): Unit {
    switch (m.kind) {
      case "Setting":
        return this.leaf(settingText(m), m);
      case "Record":
        return this.block(
          m.name.text,
          m,
          m.name.span.end,
          m.settings.map((s) => this.leaf(settingText(s), s)),
        );
      case "Sharing":
        if (m.mode) return this.leaf(`sharing ${m.mode.text}`, m);
        return this.block(
          "sharing",
          m,
          m.span.start + "sharing".length,
          m.groups.map((g) => this.leaf(groupText(g), g)),
        );
      case "Objectives":
        return this.block(
          "objectives",
          m,
          m.span.start + "objectives".length,
          m.objectives.map((o) => this.leaf(objectiveText(o), o)),
        );
      case "Teacher": {
        if (!m.hasBlock) return this.leaf(teacherHead(m), m);
        const headerEnd = (m.checkpoint ?? m.model).span.end;
        return this.block(
          teacherHead(m),
          m,
          headerEnd,
          m.inits.map((i) => this.leaf(initText(i), i)),
        );
      }
      case "Expect":
        return this.leaf(`expect ${m.key.text} ${valueText(m.value)}`, m);
      case "Tokenizer":
        return this.leaf(`tokenizer ${m.tokenizer.text}${m.lowercase ? " lowercase" : ""}`, m);
    }
  }

  /** The `{` after a block's header: only whitespace and comments can come between. */
  private findOpenBrace(from: number): number {
    const t = this.text;
    let i = from;
    while (i < t.length) {
      const ch = t[i]!;
      if (ch === "{") return i;
      if (ch === "/" && t[i + 1] === "/") {
        while (i < t.length && t[i] !== "\n") i++;
      } else if (/\s|\ufeff/.test(ch)) {
        i++;
      } else {
        break;
      }
    }
    throw new Error(`internal error: formatter found no '{' after offset ${from}`);
  }

  // --- queries -----------------------------------------------------------------------------

  private line(offset: number): number {
    return lineCol(this.ast.source, offset).line;
  }

  /** Comments not yet placed with lo <= start < hi. */
  private commentsIn(lo: number, hi: number): A.Comment[] {
    return this.comments.filter((c) => !this.placed.has(c) && c.span.start >= lo && c.span.start < hi);
  }

  private hasBlankLine(from: number, to: number): boolean {
    let newlines = 0;
    for (let i = from; i < to; i++) if (this.text.charCodeAt(i) === 10) newlines++;
    return newlines >= 2;
  }

  /** Whether a unit prints on one line (and so may share it with its neighbours). */
  private isOneLine(u: Unit): boolean {
    if (u.kind === "leaf") return true;
    if (u.children.length === 0 && this.commentsIn(u.open, u.close).length === 0) return true;
    return !u.isModel && this.line(u.start) === this.line(u.close);
  }

  private oneLineText(u: Unit): string {
    if (u.kind === "leaf") return u.text;
    if (u.children.length === 0) return `${u.header} {}`;
    return `${u.header} { ${u.children.map((c) => this.oneLineText(c)).join(" ")} }`;
  }

  // --- emitting lines ----------------------------------------------------------------------

  private emitComment(c: A.Comment, depth: number): void {
    this.placed.add(c);
    this.lines.push({ kind: "comment", depth, text: c.text.trimEnd() });
  }

  private emitCode(depth: number, code: string, aligned: boolean): Line & { kind: "code" } {
    const line: Line & { kind: "code" } = { kind: "code", depth, code, comment: null, aligned };
    this.lines.push(line);
    return line;
  }

  /**
   * The members of a block (or the items of the file) between offsets lo and hi, with the
   * comments that fall between them. Blank lines are kept (at most one), never first.
   */
  private sequence(units: readonly Unit[], lo: number, hi: number, depth: number, top: boolean): void {
    const inside = (c: A.Comment): boolean => units.some((u) => c.span.start >= u.start && c.span.start < u.end);
    const free = this.commentsIn(lo, hi).filter((c) => !inside(c));
    let ci = 0;
    let i = 0;
    let prevEnd = lo;
    let first = true;
    let prevItem: Unit | null = null;

    const blankBefore = (start: number): boolean => {
      if (first) return false;
      if (top && prevItem) {
        // A boundary between top-level items: one blank line, except between two imports.
        const next = units[i];
        if (next && !(prevItem.kind === "leaf" && prevItem.isImport && next.kind === "leaf" && next.isImport)) return true;
      }
      return this.hasBlankLine(prevEnd, start);
    };

    while (i < units.length || ci < free.length) {
      const nextStart = units[i]?.start ?? Infinity;
      const c = free[ci];
      if (c && c.span.start < nextStart) {
        if (blankBefore(c.span.start)) this.lines.push({ kind: "blank" });
        this.emitComment(c, depth);
        ci++;
        prevEnd = c.span.end;
        first = false;
        prevItem = null;
        continue;
      }

      // One unit, or several one-line units written on one source line.
      const group: Unit[] = [units[i]!];
      if (!top && this.isOneLine(units[i]!)) {
        for (let next = units[i + 1]; next && this.isOneLine(next); next = units[i + group.length]) {
          if (this.line(next.start) !== this.line(group.at(-1)!.end - 1)) break;
          group.push(next);
        }
      }
      const firstUnit = group[0]!;
      const lastUnit = group.at(-1)!;
      if (blankBefore(firstUnit.start)) this.lines.push({ kind: "blank" });
      i += group.length;

      let last: Line & { kind: "code" };
      if (group.length === 1 && !this.isOneLine(firstUnit)) {
        last = this.emitBlock(firstUnit as Block, depth);
      } else {
        // Comments written inside a one-line construct move to their own lines before it.
        for (const u of group) for (const inner of this.commentsIn(u.start, u.end)) this.emitComment(inner, depth);
        last = this.emitCode(depth, group.map((u) => this.oneLineText(u)).join(" "), true);
      }

      const trailing = free[ci];
      if (trailing && trailing.span.start >= lastUnit.end && this.line(trailing.span.start) === this.line(lastUnit.end - 1)) {
        this.placed.add(trailing);
        last.comment = trailing.text.trimEnd();
        prevEnd = trailing.span.end;
        ci++;
      } else {
        prevEnd = lastUnit.end;
      }
      first = false;
      prevItem = lastUnit;
    }
  }

  /** A block over several lines; returns its `}` line, which may take a trailing comment. */
  private emitBlock(b: Block, depth: number): Line & { kind: "code" } {
    for (const c of this.commentsIn(b.start, b.open)) this.emitComment(c, depth);
    const header = this.emitCode(depth, `${b.header} {`, false);
    const firstChild = b.children[0]?.start ?? b.close;
    const afterBrace = this.commentsIn(b.open, Math.min(firstChild, b.close))[0];
    if (afterBrace && this.line(afterBrace.span.start) === this.line(b.open)) {
      this.placed.add(afterBrace);
      header.comment = afterBrace.text.trimEnd();
    }
    this.sequence(b.children, b.open + 1, b.close, depth + 1, false);
    return this.emitCode(depth, "}", false);
  }

  // --- rendering -----------------------------------------------------------------------------

  private render(): string {
    const lines = this.lines;
    const column = new Map<Line, number>();
    // Align trailing comments within each run of consecutive one-line members.
    for (let i = 0; i < lines.length;) {
      const line = lines[i]!;
      if (line.kind !== "code" || !line.aligned) {
        i++;
        continue;
      }
      let j = i;
      let width = -1;
      while (j < lines.length) {
        const l = lines[j]!;
        if (l.kind !== "code" || !l.aligned || l.depth !== line.depth) break;
        if (l.comment !== null) width = Math.max(width, l.code.length);
        j++;
      }
      for (let k = i; k < j; k++) column.set(lines[k]!, width + 1);
      i = j;
    }

    const out: string[] = [];
    for (const line of lines) {
      if (line.kind === "blank") {
        out.push("");
        continue;
      }
      const indent = "  ".repeat(line.depth);
      if (line.kind === "comment") {
        out.push(indent + line.text);
        continue;
      }
      if (line.comment === null) {
        out.push(indent + line.code);
        continue;
      }
      // `at` is the 0-based column of `//` after the indent: one space past the widest code.
      const at = column.get(line) ?? line.code.length + 1;
      out.push(indent + line.code + " ".repeat(Math.max(1, at - line.code.length)) + line.comment);
    }
    return out.length === 0 ? "" : out.join("\n") + "\n";
  }
}
