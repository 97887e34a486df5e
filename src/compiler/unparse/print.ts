/**
 * `bdlc print --resolved`: a resolved model as a stand-alone `.bdl` model declaration, with
 * no `import` and no `extends`, and every property written out in one fixed order, so two
 * printed models compare with plain `diff`. Reading the printed text back resolves to the
 * same `ResolvedModel` (apart from `file` and `bases`), given the teacher model in scope.
 *
 * The text is built line by line here and then run through the formatter, so it is
 * canonical by construction: `bdlc fmt` leaves it unchanged.
 */
import { specialText } from "./flatten.js";
import { formatSource, quoteString } from "./format.js";
import { layersText } from "./layers-text.js";
import { normPosition, objective, type MaskSchedule, type MaskUnit, type Objective, type ResolvedModel, type Schedule } from "../../model/model.js";
import { formatNumber } from "../../model/numbers.js";
import { isSharingAll } from "../../model/sharing.js";

const n = formatNumber;

/**
 * Prints `model`; `teacher` is the resolved model its `teacher` link names, when known
 * (it only adds a comment on how `cosine` bridges a difference in width).
 */
export function printResolved(model: ResolvedModel, teacher: ResolvedModel | null = null): string {
  const out = new LineBuilder();
  const from = model.bases.length > 0 ? `, extends ${model.bases.join(" -> ")}` : "";
  out.line(`// bdlc print --resolved: ${model.name} (${oneLine(model.file)})${from}`);
  out.open(`model ${model.name}`);

  out.line(`vocab ${n(model.vocab)}`);
  out.line(`hidden ${n(model.hidden)}`);
  out.line(`layers ${n(model.layers)}`);
  out.line(`heads ${n(model.heads)}`);
  out.line(`intermediate ${n(model.intermediate)}`);
  out.line(`activation ${model.activation}`);
  out.line(`norm_eps ${n(model.norm_eps)}`);
  // Written only when not the default, as `factorize`: the text of every post-LN model stays what it was.
  if (normPosition(model) !== "post") out.line(`norm_position ${normPosition(model)}`);
  out.line(`dropout ${n(model.dropout)}`);
  out.line(`attention_dropout ${n(model.attention_dropout)}`);
  out.line(`pooler ${model.pooler}`);

  out.blank();
  const emb = model.embeddings;
  out.open("embeddings");
  out.line(`positions ${n(emb.positions)}`);
  out.line(`offset ${n(emb.offset)}`);
  out.line(`segments ${n(emb.segments)}`);
  if (emb.factorize !== null) out.line(`factorize ${n(emb.factorize)}`);
  out.close();

  out.blank();
  printSharing(out, model);

  out.blank();
  out.open("objectives");
  for (const o of model.objectives) out.line(objectiveText(o));
  out.close();

  out.blank();
  const m = model.masking;
  out.open("masking");
  out.line(`rate ${scheduleText(m.rate)}`);
  out.line(`mask ${n(m.mask)} random ${n(m.random)} keep ${n(m.keep)}`);
  out.line(`unit ${unitText(m.unit)}`);
  out.line(`schedule ${maskScheduleText(m.schedule)}`);
  out.close();

  if (model.teacher) {
    const t = model.teacher;
    out.blank();
    const note = teacherNote(model, teacher);
    if (note) out.line(note);
    const head = `teacher ${t.model}${t.checkpoint === null ? "" : ` from ${quoteString(t.checkpoint)}`}`;
    if (t.initLayers === null && !t.initEmbeddings) {
      out.line(head);
    } else {
      out.open(head);
      if (t.initLayers !== null) out.line(`init layers [${t.initLayers.join(", ")}]`);
      if (t.initEmbeddings) out.line("init embeddings");
      out.close();
    }
  }

  out.blank();
  out.line(`tokenizer ${model.tokenizer.kind}${model.tokenizer.lowercase ? " lowercase" : ""}`);
  const special = specialText(model.special);
  out.line(special === "" ? "special {}" : `special { ${special} }`);

  out.blank();
  const t = model.train;
  out.open("train");
  out.line(
    `optimizer ${t.optimizer} lr ${n(t.lr)} beta1 ${n(t.beta1)} beta2 ${n(t.beta2)} eps ${n(t.eps)} weight_decay ${n(t.weight_decay)}`,
  );
  out.line(`warmup ${n(t.warmup)}`);
  out.line(`decay ${t.decay}`);
  out.line(`batch ${n(t.batch)}`);
  out.line(`seq ${n(t.seq)}`);
  out.line(`steps ${n(t.steps)}`);
  out.close();

  if (model.expect.length > 0) {
    out.blank();
    for (const e of model.expect) out.line(`expect ${e.key} ${e.text}`);
  }
  out.close();

  const formatted = formatSource({ path: `<print ${model.name}>`, text: out.text() });
  if (formatted.text === undefined) {
    const why = formatted.diagnostics.map((d) => d.message).join("; ");
    throw new Error(`internal error: printed model '${model.name}' does not parse: ${why}`);
  }
  return formatted.text;
}

/**
 * The comment printed above a teacher link when `cosine` compares hidden states of
 * different widths, which needs a learned projection; null when there is nothing to say.
 */
export function teacherNote(model: ResolvedModel, teacher: ResolvedModel | null | undefined): string | null {
  if (!model.teacher || !teacher || !objective(model, "cosine")) return null;
  if (teacher.hidden === model.hidden) return null;
  return `// cosine compares hidden states through a learned projection ${n(model.hidden)} -> ${n(teacher.hidden)}`;
}

/** `sharing none`, `sharing all`, or one `group` line per sharing group. */
function printSharing(out: LineBuilder, model: ResolvedModel): void {
  const groups = model.sharing;
  if (groups.length === 0) {
    out.line("sharing none");
    return;
  }
  // Only exactly what `sharing all` resolves to prints as it, so the text reads back to the same groups.
  if (isSharingAll(model)) {
    out.line("sharing all");
    return;
  }
  out.open("sharing");
  for (const g of groups) out.line(`group ${g.name} layers ${layersText(g.layers)} share ${g.share.join(" ")}`);
  out.close();
}

function objectiveText(o: Objective): string {
  const temperature = o.temperature === undefined ? "" : ` temperature ${n(o.temperature)}`;
  return `${o.name} weight ${n(o.weight)}${temperature}`;
}

function scheduleText(s: Schedule): string {
  return typeof s === "number" ? n(s) : `${n(s.from)} -> ${n(s.to)} over ${n(s.steps)}`;
}

function unitText(u: MaskUnit): string {
  return u.kind === "ngram" ? `ngram ${n(u.n)}` : u.kind;
}

function maskScheduleText(s: MaskSchedule): string {
  return s.kind === "static" ? `static duplicates ${n(s.duplicates)}` : "dynamic";
}

/** A path inside a one-line comment. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ");
}

/** Indented lines; blank lines requested at the start of a block or twice in a row are dropped. */
class LineBuilder {
  private readonly lines: string[] = [];
  private depth = 0;
  private pendingBlank = false;

  line(text: string): void {
    if (this.pendingBlank) this.lines.push("");
    this.pendingBlank = false;
    this.lines.push("  ".repeat(this.depth) + text);
  }

  blank(): void {
    if (this.lines.length > 0 && !this.lines.at(-1)!.endsWith("{")) this.pendingBlank = true;
  }

  open(header: string): void {
    this.line(`${header} {`);
    this.depth++;
  }

  close(): void {
    this.pendingBlank = false;
    this.depth--;
    this.line("}");
  }

  text(): string {
    return this.lines.join("\n") + "\n";
  }
}
