/**
 * `bdlc graph`: a picture of a resolved model as a standalone SVG.
 *
 * Data flows bottom → top, as in the usual Transformer figures: input ids at the bottom,
 * then embeddings, the encoder layers (layer 0 lowest), the pooler and the pretraining
 * heads at the top. A teacher, when there is one, sits in a dashed box at the right; so
 * does ELECTRA's generator, which reads the shared embeddings and whose samples become
 * the discriminator's input.
 *
 * The code has two halves: layout functions that place plain shapes (boxes, text, paths)
 * into a `Scene`, and `serialize`, the only place that writes SVG text. Output is a pure
 * function of the input (no clocks, no randomness), so the same model gives the same bytes.
 */
import {
  attentionConfig,
  embeddingWidth,
  feedForwardKind,
  groupOwning,
  hasLocalLayers,
  normPosition,
  type Objective,
  type ResolvedModel,
  type SharedPart,
  type SharingGroup,
  SHARED_PARTS,
} from "../model/model.js";

export interface GraphOptions {
  /** The teacher's resolved model, for its sizes; the link itself is `model.teacher`. */
  teacher?: ResolvedModel | null;
  /** Parameter counts (what `countParams` returns): shown per block and in a caption. */
  params?: { encoder: number; total: number; breakdown: Record<string, number> };
}

export function renderGraphSvg(model: ResolvedModel, options: GraphOptions = {}): string {
  const teacher = options.teacher ?? null;
  const params = options.params ?? null;
  const stack = planStack(model);
  const frame = makeFrame(model, stack);
  const scene: Scene = { width: frame.width, bottom: 0, shapes: [] };

  let y = MARGIN;
  y = layoutTitle(scene, frame, model, params, y);
  const heads = layoutHeads(scene, frame, model, teacher, params, y);
  const stackTop = heads.bottom + (model.pooler === "tanh" ? POOLER_BAND : PLAIN_BAND);
  const encoder = layoutStack(scene, frame, model, stack, params, stackTop);
  const pooler = model.pooler === "tanh" ? layoutPooler(scene, frame, model, heads, params, heads.bottom, stackTop) : null;
  connectHeads(scene, heads, pooler, encoder.rect);
  y = encoder.rect.y + encoder.rect.h + STAGE_GAP;
  let below = encoder.rect;
  if (model.embeddings.factorize !== null) {
    const projection = layoutProjection(scene, frame, model, params, y);
    upArrow(scene, midX(projection), projection.y, below.y + below.h);
    below = projection;
    y = projection.y + projection.h + STAGE_GAP;
  }
  const embeddings = layoutEmbeddings(scene, frame, model, params, y);
  upArrow(scene, midX(embeddings.rect), embeddings.rect.y, below.y + below.h);
  y = layoutInputs(scene, embeddings, embeddings.rect.y + embeddings.rect.h);

  const mlm = heads.boxes.get("mlm");
  if (mlm) layoutTiedDecoder(scene, mlm, embeddings.word);
  layoutGroupBrackets(scene, frame, model, stack, encoder.itemRects);
  if (model.teacher && frame.teacherX !== null) {
    layoutTeacher(scene, frame, model, teacher, heads, encoder.rect, embeddings.rect);
  }
  if (model.generator && frame.teacherX !== null) layoutGenerator(scene, frame, model, params, encoder.rect, embeddings.rect);
  if (params) layoutCaption(scene, frame, params, y + STAGE_GAP);

  return serialize(scene, `${model.name}: architecture`);
}

// ---------------------------------------------------------------------------------------
// Layout model: plain shapes in absolute coordinates.

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

interface RectShape extends Rect {
  kind: "rect";
  fill: string;
  stroke: string;
  strokeWidth: number;
  dashed: boolean;
}

interface TextShape {
  kind: "text";
  x: number;
  y: number;
  text: string;
  size: number;
  bold: boolean;
  anchor: "start" | "middle" | "end";
  color: string;
  /** Degrees; only for labels that run along a vertical line. */
  rotate: number;
}

interface PathShape {
  kind: "path";
  points: Array<[number, number]>;
  color: string;
  width: number;
  dashed: boolean;
  /** Which arrowhead marker ends the path, if any. */
  marker: MarkerName | null;
}

type Shape = RectShape | TextShape | PathShape;
type MarkerName = "flow" | "teacher" | "generator" | "tie" | "loop0" | "loop1" | "loop2" | "loop3" | "loop4" | "loop5";

interface Scene {
  width: number;
  /** Lowest y any shape reaches; the picture's height follows from it. */
  bottom: number;
  shapes: Shape[];
}

/** A line of text in a box; wrapped to the box's width when drawn. */
interface Line {
  text: string;
  bold?: boolean;
  size?: number;
  color?: string;
}

interface BoxStyle {
  fill: string;
  stroke: string;
  strokeWidth?: number;
  dashed?: boolean;
}

// ---------------------------------------------------------------------------------------
// Sizes and colours. Every text is at least 11px so the picture reads at 100% zoom.

const MARGIN = 24;
const COL_W = 640;
/** Left of the main column: room for the tied-decoder line, and group labels when shared. */
const GUTTER_PLAIN = 64;
const GUTTER_GROUPS = 250;
/** Right of the main column: the loop arrows and "×N" of shared blocks. */
const LOOP_LANE = 100;
const TEACHER_GAP = 190;
const TEACHER_W = 260;

const STAGE_GAP = 34;
const POOLER_BAND = 100;
const PLAIN_BAND = 44;
const ROW_H = 46;
const ROW_H_SHARED = 60;
const ROW_GAP = 6;
const REPEAT_H = 108;
const ELLIPSIS_H = 30;
const LABEL_CELL_W = 104;
const CELL_GAP = 8;
const INNER_PAD = 10;
const ENCODER_HEADER = 32;
/** Above this many layers, long runs of unshared layers are collapsed to their ends. */
const COLLAPSE_ABOVE = 24;
const KEEP_AT_EACH_END = 2;

const INK = "#1f2933";
const MUTED = "#52606d";
const FLOW = "#3e4c59";
const PLAIN: BoxStyle = { fill: "#f5f7fa", stroke: "#9aa5b1" };
const CONTAINER: BoxStyle = { fill: "#ffffff", stroke: "#7b8794", strokeWidth: 1.5 };
const HEAD: BoxStyle = { fill: "#fffbea", stroke: "#cb9d06" };
const EMBED: BoxStyle = { fill: "#eef6ff", stroke: "#5a8dd6" };
const TEACHER_COLOR = "#7c3aed";
const TEACHER_BOX: BoxStyle = { fill: "#faf5ff", stroke: TEACHER_COLOR, dashed: true, strokeWidth: 1.5 };
const TIE_COLOR = "#b45309";
/** One colour per sharing group: same colour = one set of weights. */
const GROUP_COLORS: ReadonlyArray<{ fill: string; stroke: string }> = [
  { fill: "#dbeafe", stroke: "#2563eb" },
  { fill: "#dcfce7", stroke: "#15803d" },
  { fill: "#fce7f3", stroke: "#be185d" },
  { fill: "#cffafe", stroke: "#0e7490" },
  { fill: "#fef3c7", stroke: "#b45309" },
  { fill: "#ede9fe", stroke: "#6d28d9" },
];

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

interface Frame {
  colX: number;
  colW: number;
  /** Left edge of the loop lane (= right edge of the main column). */
  laneX: number;
  laneW: number;
  /** Left edge of the side panel (the teacher's or ELECTRA's generator's); null when the model has neither. */
  teacherX: number | null;
  width: number;
}

function makeFrame(model: ResolvedModel, stack: StackItem[]): Frame {
  const colX = model.sharing.length > 0 ? GUTTER_GROUPS : GUTTER_PLAIN;
  const laneX = colX + COL_W;
  const laneW = stack.some((item) => item.kind === "repeat") ? LOOP_LANE : 16;
  const teacherX = model.teacher || model.generator ? laneX + laneW + TEACHER_GAP : null;
  const width = (teacherX !== null ? teacherX + TEACHER_W : laneX + laneW) + MARGIN;
  return { colX, colW: COL_W, laneX, laneW, teacherX, width };
}

// ---------------------------------------------------------------------------------------
// What the encoder stack shows, bottom (layer 0) first.

type StackItem =
  /** One layer drawn as its own row. */
  | { kind: "layer"; layer: number }
  /** Consecutive layers of a group that shares everything: one block used `layers.length` times. */
  | { kind: "repeat"; group: SharingGroup; layers: number[] }
  /** Unshared layers left out of a deep stack so it stays readable. */
  | { kind: "ellipsis"; first: number; last: number };

function planStack(model: ResolvedModel): StackItem[] {
  const items: StackItem[] = [];
  let layer = 0;
  while (layer < model.layers) {
    const group = fullGroup(model, layer);
    let last = layer;
    while (group && last + 1 < model.layers && fullGroup(model, last + 1) === group) last++;
    if (group && last > layer) {
      items.push({ kind: "repeat", group, layers: range(layer, last) });
    } else {
      items.push({ kind: "layer", layer });
    }
    layer = last + 1;
  }
  return model.layers > COLLAPSE_ABOVE ? collapsePlainRuns(model, items) : items;
}

/** The group that shares both attention and FFN of `layer`, if one does. */
function fullGroup(model: ResolvedModel, layer: number): SharingGroup | undefined {
  const group = groupOwning(model, layer, "attention");
  return group && groupOwning(model, layer, "ffn") === group ? group : undefined;
}

/** Replaces the middle of every long run of unshared rows with one "… N more layers …" row. */
function collapsePlainRuns(model: ResolvedModel, items: StackItem[]): StackItem[] {
  const out: StackItem[] = [];
  let run: number[] = [];
  const flush = (): void => {
    if (run.length > 2 * KEEP_AT_EACH_END + 1) {
      const head = run.slice(0, KEEP_AT_EACH_END);
      const tail = run.slice(run.length - KEEP_AT_EACH_END);
      for (const layer of head) out.push({ kind: "layer", layer });
      out.push({ kind: "ellipsis", first: head[head.length - 1]! + 1, last: tail[0]! - 1 });
      for (const layer of tail) out.push({ kind: "layer", layer });
    } else {
      for (const layer of run) out.push({ kind: "layer", layer });
    }
    run = [];
  };
  for (const item of items) {
    const plain = item.kind === "layer" && !groupOwning(model, item.layer, "attention") && !groupOwning(model, item.layer, "ffn");
    if (plain) {
      run.push(item.layer);
    } else {
      flush();
      out.push(item);
    }
  }
  flush();
  return out;
}

// ---------------------------------------------------------------------------------------
// Title.

function layoutTitle(scene: Scene, frame: Frame, model: ResolvedModel, params: GraphOptions["params"] | null, top: number): number {
  const x = frame.colX;
  let y = top + 22;
  addText(scene, x, y, model.name, { size: 24, bold: true });
  y += 24;
  const lineage = model.bases.length > 0 ? `extends ${model.bases.join(" › ")}` : "base model (extends nothing)";
  addText(scene, x, y, `${lineage} · ${model.file}`, { size: 13, color: MUTED });
  y += 20;
  const dims = [
    `${model.layers} layers`,
    `hidden ${model.hidden}`,
    `${model.heads} heads`,
    `FFN ${model.intermediate}`,
    `vocab ${formatCount(model.vocab)}`,
    model.activation,
  ];
  addText(scene, x, y, dims.join(" · "), { size: 13 });
  if (params) {
    y += 22;
    const text = `${formatCount(params.total)} parameters · encoder ${formatCount(params.encoder)}`;
    addText(scene, x, y, text, { size: 14, bold: true });
  }
  y += 20;
  addText(scene, x, y, "Data flows bottom → top. Same colour = one set of weights. Dashed = tied weights or teacher.", {
    size: 12,
    color: MUTED,
  });
  return y + 14;
}

// ---------------------------------------------------------------------------------------
// Heads and objectives (top of the picture).

interface HeadPlan {
  name: Objective["name"];
  lines: Line[];
  /** Where its input comes from: the sequence output, the pooled [CLS], or the MLM logits. */
  feed: "sequence" | "pooled" | "logits";
  teacherFed: boolean;
}

interface HeadsLayout {
  boxes: Map<Objective["name"], Rect>;
  plans: HeadPlan[];
  bottom: number;
}

function planHeads(model: ResolvedModel, teacher: ResolvedModel | null, params: GraphOptions["params"] | null): HeadPlan[] {
  const H = model.hidden;
  const E = embeddingWidth(model);
  const pooled = model.pooler === "tanh";
  const plans: HeadPlan[] = [];
  for (const o of model.objectives) {
    const weight = `weight ${o.weight}`;
    const count = (key: string): Line[] => paramLine(params, key);
    switch (o.name) {
      case "mlm":
        // ELECTRA's MLM head is the generator's, drawn in its panel.
        if (model.generator) break;
        plans.push({
          name: "mlm",
          feed: "sequence",
          teacherFed: false,
          lines: [
            { text: "MLM head", bold: true },
            { text: `dense ${H} → ${E}, ${model.activation}, LayerNorm` },
            { text: "decoder tied to word embeddings", color: TIE_COLOR },
            { text: maskingSummary(model) },
            { text: weight, color: MUTED },
            ...count("head.mlm"),
          ],
        });
        break;
      case "nsp":
      case "sop":
        plans.push({
          name: o.name,
          feed: pooled ? "pooled" : "sequence",
          teacherFed: false,
          lines: [
            { text: o.name === "nsp" ? "NSP head" : "SOP head", bold: true },
            { text: o.name === "nsp" ? "next sentence? (2 classes)" : "sentence order? (2 classes)" },
            { text: `dense ${H} → 2 on ${pooled ? "pooled" : "[CLS]"}` },
            { text: weight, color: MUTED },
            ...count(`head.${o.name}`),
          ],
        });
        break;
      case "distill":
        plans.push({
          name: "distill",
          feed: "logits",
          teacherFed: true,
          lines: [
            { text: "Distillation", bold: true },
            { text: "KL(student/T ‖ teacher/T)·T²" },
            { text: "over MLM logits" },
            { text: `temperature T = ${o.temperature} · ${weight}`, color: MUTED },
          ],
        });
        break;
      case "cosine": {
        const lines: Line[] = [{ text: "Cosine", bold: true }, { text: "1 − cos(student, teacher)" }, { text: "over last hidden states" }];
        if (teacher && teacher.hidden !== H) {
          lines.push({ text: `projection ${H} → ${teacher.hidden} (learned)`, color: TEACHER_COLOR });
        }
        lines.push({ text: weight, color: MUTED }, ...count("head.cosine_projection"));
        plans.push({ name: "cosine", feed: "sequence", teacherFed: true, lines });
        break;
      }
      case "rtd":
        plans.push({
          name: "rtd",
          feed: "sequence",
          teacherFed: false,
          lines: [
            { text: "Replaced-token detection", bold: true },
            { text: `dense ${H} → ${H}, ${model.activation}, dense ${H} → 1 per token` },
            { text: "replaced by the generator? BCE over real tokens" },
            { text: weight, color: MUTED },
            ...count("head.rtd"),
          ],
        });
        break;
    }
  }
  return plans;
}

function maskingSummary(model: ResolvedModel): string {
  const m = model.masking;
  const rate =
    typeof m.rate === "number"
      ? percent(m.rate)
      : `${percent(m.rate.from)} → ${percent(m.rate.to)} over ${formatCount(m.rate.steps)} steps`;
  const unit =
    m.unit.kind === "ngram"
      ? `${m.unit.n}-grams`
      : m.unit.kind === "span"
        ? `word spans (Geo ${m.unit.p}, ≤ ${m.unit.max})`
        : m.unit.kind === "word"
          ? "whole words"
          : "tokens";
  const schedule = m.schedule.kind === "static" ? `static ×${m.schedule.duplicates}` : "dynamic";
  return `masks ${rate} of ${unit}, ${schedule}`;
}

function layoutHeads(
  scene: Scene,
  frame: Frame,
  model: ResolvedModel,
  teacher: ResolvedModel | null,
  params: GraphOptions["params"] | null,
  top: number,
): HeadsLayout {
  const plans = planHeads(model, teacher, params);
  const boxes = new Map<Objective["name"], Rect>();
  if (plans.length === 0) return { boxes, plans, bottom: top };

  let y = top + 12;
  const loss = model.objectives.map((o) => `${o.weight} × ${o.name}`).join(" + ");
  addText(scene, frame.colX + frame.colW / 2, y + 4, `pretraining loss = ${loss}`, {
    size: 13,
    bold: true,
    anchor: "middle",
  });
  y += 14;
  // Room above the row for the "MLM logits" bridge and the teacher's outputs, which run
  // over the boxes rather than through the arrows below them.
  if (plans.some((p) => p.teacherFed)) y += 44;

  const gap = 24;
  const w = (frame.colW - gap * (plans.length - 1)) / plans.length;
  const h = Math.max(...plans.map((p) => linesHeight(p.lines, w - 16))) + 20;
  plans.forEach((plan, i) => {
    const rect = { x: frame.colX + i * (w + gap), y, w, h };
    drawBox(scene, rect, HEAD, plan.lines);
    boxes.set(plan.name, rect);
  });
  drawLogitsBridge(scene, boxes);
  return { boxes, plans, bottom: y + h };
}

/** Distillation reads the MLM head's logits: a bridge from the MLM box over the row into it. */
function drawLogitsBridge(scene: Scene, boxes: Map<Objective["name"], Rect>): void {
  const mlm = boxes.get("mlm");
  const distill = boxes.get("distill");
  if (!mlm || !distill) return;
  const from = midX(mlm);
  const to = midX(distill);
  const top = mlm.y - 26;
  arrow(scene, [
    [from, mlm.y],
    [from, top],
    [to, top],
    [to, distill.y],
  ]);
  addText(scene, (from + to) / 2, top - 5, "MLM logits", { size: 11, anchor: "middle", color: MUTED });
}

// ---------------------------------------------------------------------------------------
// Pooler and the arrows from the encoder into the heads.

function layoutPooler(
  scene: Scene,
  frame: Frame,
  model: ResolvedModel,
  heads: HeadsLayout,
  params: GraphOptions["params"] | null,
  headsBottom: number,
  stackTop: number,
): Rect {
  const pooledBoxes = heads.plans.filter((p) => p.feed === "pooled").map((p) => heads.boxes.get(p.name)!);
  const span = pooledBoxes.length > 0 ? spanOf(pooledBoxes) : freeSpan(frame, heads);
  const H = model.hidden;
  const lines: Line[] = [{ text: "Pooler", bold: true }, { text: `[CLS] → dense ${H} → ${H} → tanh` }];
  if (pooledBoxes.length === 0) lines.push({ text: "(for fine-tuning)", color: MUTED });
  lines.push(...paramLine(params, "pooler"));
  const h = linesHeight(lines, span.w - 12) + 12;
  const rect = { x: span.x, y: headsBottom + (stackTop - headsBottom - h) / 2, w: span.w, h };
  drawBox(scene, rect, PLAIN, lines);
  return rect;
}

/** A pooler no head reads goes in the widest gap between the heads' input arrows. */
function freeSpan(frame: Frame, heads: HeadsLayout): { x: number; w: number } {
  const xs = heads.plans.filter((p) => p.feed === "sequence").map((p) => midX(heads.boxes.get(p.name)!));
  const edges = [frame.colX, ...xs.sort((a, b) => a - b), frame.colX + frame.colW];
  let best = { x: frame.colX, w: frame.colW };
  let widest = -1;
  for (let i = 0; i + 1 < edges.length; i++) {
    const gap = edges[i + 1]! - edges[i]!;
    if (gap > widest) {
      widest = gap;
      const w = Math.min(260, gap - 24);
      best = { x: edges[i]! + (gap - w) / 2, w };
    }
  }
  return best;
}

function connectHeads(scene: Scene, heads: HeadsLayout, pooler: Rect | null, stack: Rect): void {
  if (pooler) upArrow(scene, midX(pooler), stack.y, pooler.y + pooler.h);
  for (const plan of heads.plans) {
    const box = heads.boxes.get(plan.name)!;
    const bottom = box.y + box.h;
    if (plan.feed === "sequence") upArrow(scene, midX(box), stack.y, bottom);
    if (plan.feed === "pooled" && pooler) upArrow(scene, midX(box), pooler.y, bottom);
  }
}

// ---------------------------------------------------------------------------------------
// The encoder stack.

interface StackLayout {
  rect: Rect;
  /** One rectangle per stack item, same order as the plan. */
  itemRects: Rect[];
}

interface Columns {
  label: { x: number; w: number };
  attention: { x: number; w: number };
  ffn: { x: number; w: number };
}

function stackColumns(frame: Frame): Columns {
  const x = frame.colX + INNER_PAD;
  const partW = (frame.colW - 2 * INNER_PAD - LABEL_CELL_W - 2 * CELL_GAP) / 2;
  const attentionX = x + LABEL_CELL_W + CELL_GAP;
  return {
    label: { x, w: LABEL_CELL_W },
    attention: { x: attentionX, w: partW },
    ffn: { x: attentionX + partW + CELL_GAP, w: partW },
  };
}

function itemHeight(model: ResolvedModel, item: StackItem): number {
  if (item.kind === "repeat") return REPEAT_H;
  if (item.kind === "ellipsis") return ELLIPSIS_H;
  // A shared cell alone in its row (not joined with a neighbour's) needs a third line for its group.
  return loneSharedCell(model, item.layer, "attention") || loneSharedCell(model, item.layer, "ffn") ? ROW_H_SHARED : ROW_H;
}

function loneSharedCell(model: ResolvedModel, layer: number, part: SharedPart): boolean {
  const group = groupOwning(model, layer, part);
  if (!group) return false;
  return groupOwning(model, layer - 1, part) !== group && groupOwning(model, layer + 1, part) !== group;
}

function layoutStack(
  scene: Scene,
  frame: Frame,
  model: ResolvedModel,
  stack: StackItem[],
  params: GraphOptions["params"] | null,
  top: number,
): StackLayout {
  const inner = stack.reduce((sum, item) => sum + itemHeight(model, item), 0) + ROW_GAP * (stack.length - 1);
  const rect = { x: frame.colX, y: top, w: frame.colW, h: ENCODER_HEADER + inner + INNER_PAD };
  drawBox(scene, rect, CONTAINER, []);
  const structure =
    normPosition(model) === "pre"
      ? `x + attention(LN(x)) → x + FFN(LN(x)); final LayerNorm${model.first_attention_norm === false ? "; layer 0 without attention LN" : ""}`
      : "self-attention → feed-forward, residual + LayerNorm";
  const header = `Encoder · ${model.layers} layers · each: ${structure}`;
  addText(scene, rect.x + INNER_PAD, rect.y + 21, header, { size: 13, bold: true });

  // Layer 0 is at the bottom, so items are placed from the last one down.
  const cols = stackColumns(frame);
  const itemRects: Rect[] = new Array<Rect>(stack.length);
  let y = rect.y + ENCODER_HEADER;
  for (let i = stack.length - 1; i >= 0; i--) {
    const item = stack[i]!;
    const h = itemHeight(model, item);
    itemRects[i] = { x: cols.label.x, y, w: frame.colW - 2 * INNER_PAD, h };
    y += h + ROW_GAP;
  }

  stack.forEach((item, i) => {
    const r = itemRects[i]!;
    if (item.kind === "layer") drawLayerLabel(scene, model, item.layer, { ...cols.label, y: r.y, h: r.h }, params);
    if (item.kind === "ellipsis") drawEllipsis(scene, item, r);
    if (item.kind === "repeat") drawRepeat(scene, frame, model, item, r, cols, params);
  });
  for (const part of SHARED_PARTS) drawPartColumn(scene, model, stack, itemRects, cols[part], part);
  return { rect, itemRects };
}

function drawLayerLabel(scene: Scene, model: ResolvedModel, layer: number, rect: Rect, params: GraphOptions["params"] | null): void {
  const lines: Line[] = [{ text: `layer ${layer}`, bold: true }];
  const from = model.teacher?.initLayers?.[layer];
  if (from !== undefined) lines.push({ text: `← teacher ${from}`, color: TEACHER_COLOR });
  const own = params?.breakdown[`layer.${layer}`];
  // A layer that takes a part from a group owns only the rest: say so next to the number.
  const partial = groupOwning(model, layer, "attention") || groupOwning(model, layer, "ffn");
  if (own !== undefined && from === undefined) {
    lines.push({ text: partial ? `own ${shortCount(own)}` : shortCount(own), color: MUTED });
  }
  drawBox(scene, rect, PLAIN, lines);
}

function drawEllipsis(scene: Scene, item: { first: number; last: number }, rect: Rect): void {
  const n = item.last - item.first + 1;
  drawBox(scene, rect, { ...PLAIN, dashed: true }, [
    { text: `… ${n} more layers (${item.first}–${item.last}), each like the layers shown …`, color: MUTED },
  ]);
}

/** Text for one attention or FFN cell. */
function partLines(model: ResolvedModel, part: SharedPart): Line[] {
  if (part === "attention") {
    const a = attentionConfig(model);
    const lines: Line[] = [
      { text: "Self-attention", bold: true },
      { text: `${model.heads} heads × ${model.hidden / model.heads} · hidden ${model.hidden}` },
    ];
    const notes: string[] = [];
    if (a.rotary !== null)
      notes.push(a.local_rotary !== null && a.window !== null ? `RoPE θ ${a.rotary} / local ${a.local_rotary}` : `RoPE θ ${a.rotary}`);
    if (a.window !== null && hasLocalLayers(model)) notes.push(`local ±${Math.floor(a.window / 2)}, global every ${a.global_every}`);
    if (notes.length > 0) lines.push({ text: notes.join(" · "), color: MUTED });
    return lines;
  }
  // Gated: W1 is twice as wide, its input half through the activation times its gate half.
  if (feedForwardKind(model) === "gated") {
    return [
      { text: "Gated feed-forward", bold: true },
      { text: `${model.hidden} → 2×${model.intermediate} → ${model.hidden} · ${model.activation} GLU` },
    ];
  }
  return [
    { text: "Feed-forward", bold: true },
    { text: `${model.hidden} → ${model.intermediate} → ${model.hidden} · ${model.activation}` },
  ];
}

/**
 * The attention (or FFN) cells of the plain rows. Consecutive rows whose part belongs to
 * the same sharing group become one tall cell in the group's colour, so it is plain to
 * see that they are one set of weights; unshared cells stay grey, one per row.
 */
function drawPartColumn(
  scene: Scene,
  model: ResolvedModel,
  stack: StackItem[],
  itemRects: Rect[],
  col: { x: number; w: number },
  part: SharedPart,
): void {
  let i = 0;
  while (i < stack.length) {
    const item = stack[i]!;
    if (item.kind !== "layer") {
      i++;
      continue;
    }
    const group = groupOwning(model, item.layer, part);
    let j = i;
    while (group && j + 1 < stack.length && sameOwner(model, stack[j + 1]!, part, group)) j++;
    const top = itemRects[j]!; // higher index = higher up
    const bottom = itemRects[i]!;
    const rect = { x: col.x, y: top.y, w: col.w, h: bottom.y + bottom.h - top.y };
    if (!group) {
      drawBox(scene, rect, PLAIN, partLines(model, part));
    } else {
      const layers = stack.slice(i, j + 1).map((it) => (it.kind === "layer" ? it.layer : -1));
      const color = groupColor(model, group);
      const note =
        layers.length > 1
          ? `shared: group ${group.name}, one set of weights for layers ${formatLayers(layers)}`
          : `shared: group ${group.name}`;
      drawBox(scene, rect, { fill: color.fill, stroke: color.stroke, strokeWidth: 2 }, [
        ...partLines(model, part),
        { text: note, color: color.stroke, bold: true },
      ]);
    }
    i = j + 1;
  }
}

function sameOwner(model: ResolvedModel, item: StackItem, part: SharedPart, group: SharingGroup): boolean {
  return item.kind === "layer" && groupOwning(model, item.layer, part) === group;
}

/** One block for a run of layers that share everything, with a loop arrow and "×N". */
function drawRepeat(
  scene: Scene,
  frame: Frame,
  model: ResolvedModel,
  item: { group: SharingGroup; layers: number[] },
  rect: Rect,
  cols: Columns,
  params: GraphOptions["params"] | null,
): void {
  const color = groupColor(model, item.group);
  const n = item.layers.length;
  drawBox(scene, rect, { fill: color.fill, stroke: color.stroke, strokeWidth: 2.5 }, []);

  const cellTop = rect.y + 10;
  const cellH = rect.h - 42;
  const labelLines: Line[] = [
    { text: `layers ${formatLayers(item.layers)}`, bold: true },
    { text: `group ${item.group.name}`, color: color.stroke, bold: true },
    ...paramLine(params, `group.${item.group.name}`),
  ];
  drawText(scene, { x: cols.label.x, y: cellTop, w: cols.label.w, h: cellH }, labelLines);
  const cellStyle: BoxStyle = { fill: "#ffffff", stroke: color.stroke, strokeWidth: 1.5 };
  for (const part of SHARED_PARTS) {
    drawBox(scene, { x: cols[part].x, y: cellTop, w: cols[part].w, h: cellH }, cellStyle, partLines(model, part));
  }
  addText(scene, midX(rect), rect.y + rect.h - 12, `ONE set of weights, applied ${n} times in a row (×${n})`, {
    size: 13,
    bold: true,
    anchor: "middle",
    color: color.stroke,
  });

  // The loop: the block's output goes back into its input, n times in all.
  const right = rect.x + rect.w;
  const loopX = frame.laneX + 30;
  const marker = `loop${groupIndex(model, item.group) % GROUP_COLORS.length}` as MarkerName;
  scene.shapes.push({
    kind: "path",
    points: [
      [right, rect.y + 18],
      [loopX, rect.y + 18],
      [loopX, rect.y + rect.h - 18],
      [right + 2, rect.y + rect.h - 18],
    ],
    color: color.stroke,
    width: 2.5,
    dashed: false,
    marker,
  });
  addText(scene, loopX + 8, rect.y + rect.h / 2 + 8, `×${n}`, { size: 22, bold: true, color: color.stroke });
}

/** Brackets in the left gutter naming each sharing group, what it shares and its layers. */
function layoutGroupBrackets(scene: Scene, frame: Frame, model: ResolvedModel, stack: StackItem[], itemRects: Rect[]): void {
  for (const group of model.sharing) {
    const color = groupColor(model, group);
    const touches = (item: StackItem): boolean =>
      item.kind === "repeat" ? item.group === group : item.kind === "layer" && group.layers.includes(item.layer);
    let i = 0;
    let first = true;
    while (i < stack.length) {
      if (!touches(stack[i]!)) {
        i++;
        continue;
      }
      let j = i;
      while (j + 1 < stack.length && touches(stack[j + 1]!)) j++;
      const top = itemRects[j]!.y;
      const bottom = itemRects[i]!.y + itemRects[i]!.h;
      // The first (lowest) run says everything; later runs of the same group only name it.
      drawBracket(scene, frame, group, color.stroke, top, bottom, first);
      first = false;
      i = j + 1;
    }
  }
}

function drawBracket(scene: Scene, frame: Frame, group: SharingGroup, color: string, top: number, bottom: number, full: boolean): void {
  const x = frame.colX - 14;
  scene.shapes.push({
    kind: "path",
    points: [
      [x + 8, top],
      [x, top],
      [x, bottom],
      [x + 8, bottom],
    ],
    color,
    width: 2.5,
    dashed: false,
    marker: null,
  });
  const lines: Line[] = [{ text: `group ${group.name}`, bold: true, color, size: 13 }];
  if (full) {
    lines.push({ text: `shares ${group.share.join(" + ")}`, color }, { text: `layers ${formatLayers(group.layers)}`, color });
  }
  const textRight = x - 8;
  const maxW = textRight - (MARGIN + 30);
  const wrapped = wrapLines(lines, maxW);
  let y = (top + bottom) / 2 - (wrapped.length * 16) / 2 + 12;
  for (const line of wrapped) {
    addText(scene, textRight, y, line.text, { ...line, anchor: "end" });
    y += 16;
  }
}

// ---------------------------------------------------------------------------------------
// Embeddings, projection and inputs (bottom of the picture).

interface EmbeddingsLayout {
  rect: Rect;
  word: Rect;
  cells: Array<{ rect: Rect; input: string | null }>;
}

function layoutProjection(scene: Scene, frame: Frame, model: ResolvedModel, params: GraphOptions["params"] | null, top: number): Rect {
  const w = 320;
  const rect = { x: frame.colX + (frame.colW - w) / 2, y: top, w, h: 50 };
  drawBox(scene, rect, EMBED, [
    { text: "Projection E → H", bold: true },
    { text: `dense ${embeddingWidth(model)} → ${model.hidden}` },
    ...paramLine(params, "embedding_projection"),
  ]);
  return rect;
}

function layoutEmbeddings(
  scene: Scene,
  frame: Frame,
  model: ResolvedModel,
  params: GraphOptions["params"] | null,
  top: number,
): EmbeddingsLayout {
  const E = embeddingWidth(model);
  const { positions, offset, segments, factorize } = model.embeddings;
  const rect = { x: frame.colX, y: top, w: frame.colW, h: 156 };
  drawBox(scene, rect, EMBED, []);
  const width = factorize !== null ? `E = ${E} (factorized, < H = ${model.hidden})` : `E = H = ${E}`;
  const count = params?.breakdown["embeddings"];
  const header = `Embeddings · ${width}` + (count !== undefined ? ` · ${shortCount(count)} params` : "");
  addText(scene, rect.x + INNER_PAD, rect.y + 21, header, { size: 13, bold: true });

  const innerX = rect.x + INNER_PAD;
  const innerW = rect.w - 2 * INNER_PAD;
  const dropout = model.dropout > 0 ? ` → dropout ${model.dropout}` : "";
  const sum = { x: innerX, y: rect.y + 34, w: innerW, h: 30 };
  drawBox(scene, sum, { fill: "#ffffff", stroke: EMBED.stroke }, [{ text: `sum → LayerNorm(${E})${dropout}` }]);

  const cellY = sum.y + sum.h + 22;
  const cellW = (innerW - 2 * CELL_GAP) / 3;
  const cellH = rect.y + rect.h - INNER_PAD - cellY;
  const cell = (i: number): Rect => ({ x: innerX + i * (cellW + CELL_GAP), y: cellY, w: cellW, h: cellH });
  const positionRows = offset > 0 ? `(${positions} + ${offset}) × ${E}` : `${positions} × ${E}`;
  const rotary = attentionConfig(model).rotary !== null;
  const cells: EmbeddingsLayout["cells"] = [
    { rect: cell(0), input: "input_ids" },
    { rect: cell(1), input: rotary ? null : "position_ids" },
    { rect: cell(2), input: segments > 0 ? "token_type_ids" : null },
  ];
  drawBox(scene, cells[0]!.rect, { fill: "#ffffff", stroke: TIE_COLOR, strokeWidth: 1.5 }, [
    { text: "word", bold: true },
    { text: `${formatCount(model.vocab)} × ${E}` },
  ]);
  if (rotary) {
    // Rotary positions rotate queries and keys inside attention: no table here.
    drawBox(scene, cells[1]!.rect, { fill: "#ffffff", stroke: "#9aa5b1", dashed: true }, [
      { text: "no position table", color: MUTED },
      { text: "rotary, in attention", color: MUTED },
    ]);
  } else {
    const positionLines: Line[] = [{ text: "position", bold: true }, { text: positionRows }];
    if (offset > 0) positionLines.push({ text: `first id ${offset}`, color: MUTED });
    drawBox(scene, cells[1]!.rect, { fill: "#ffffff", stroke: EMBED.stroke }, positionLines);
  }
  if (segments > 0) {
    drawBox(scene, cells[2]!.rect, { fill: "#ffffff", stroke: EMBED.stroke }, [
      { text: "segment", bold: true },
      { text: `${segments} × ${E}` },
    ]);
  } else {
    drawBox(scene, cells[2]!.rect, { fill: "#ffffff", stroke: "#9aa5b1", dashed: true }, [{ text: "no segment embeddings", color: MUTED }]);
  }
  for (const c of cells) {
    if (c.input !== null) upArrow(scene, midX(c.rect), c.rect.y, sum.y + sum.h);
  }
  return { rect, word: cells[0]!.rect, cells };
}

/** The input id names under the embedding tables they index. */
function layoutInputs(scene: Scene, embeddings: EmbeddingsLayout, top: number): number {
  const labelY = top + 44;
  for (const c of embeddings.cells) {
    if (c.input === null) continue;
    upArrow(scene, midX(c.rect), labelY - 14, c.rect.y + c.rect.h);
    addText(scene, midX(c.rect), labelY, c.input, { size: 13, anchor: "middle", bold: true });
  }
  return labelY + 6;
}

/** The MLM decoder's weight is the word-embedding table: a dashed line from one to the other. */
function layoutTiedDecoder(scene: Scene, mlm: Rect, word: Rect): void {
  const laneX = MARGIN;
  const fromY = mlm.y + mlm.h / 2;
  const toY = word.y + word.h / 2;
  scene.shapes.push({
    kind: "path",
    points: [
      [mlm.x, fromY],
      [laneX, fromY],
      [laneX, toY],
      [word.x, toY],
    ],
    color: TIE_COLOR,
    width: 1.5,
    dashed: true,
    marker: "tie",
  });
  scene.shapes.push({
    kind: "text",
    x: laneX + 14,
    y: (fromY + toY) / 2,
    text: "MLM decoder weight = word embeddings (tied)",
    size: 12,
    bold: false,
    anchor: "middle",
    color: TIE_COLOR,
    rotate: -90,
  });
}

// ---------------------------------------------------------------------------------------
// Teacher (right side).

function layoutTeacher(
  scene: Scene,
  frame: Frame,
  model: ResolvedModel,
  teacher: ResolvedModel | null,
  heads: HeadsLayout,
  stack: Rect,
  embeddings: Rect,
): void {
  const link = model.teacher!;
  const panel = drawTeacherPanel(scene, frame.teacherX!, stack.y, link, teacher);

  // Labels sit in the gap between the student's column (and loop lane) and the panel.
  const gapLeft = frame.laneX + frame.laneW;
  const gapMid = (gapLeft + panel.rect.x) / 2;
  const gapW = panel.rect.x - gapLeft - 16;
  const label = (title: string, detail: string): Line[] =>
    wrapLines(
      [
        { text: title, bold: true, color: TEACHER_COLOR },
        { text: detail, color: TEACHER_COLOR },
      ],
      gapW,
    );

  if (link.initLayers) {
    // Level with the marked teacher layers, but always landing on the student's stack.
    const bottom = Math.min(stack.y + stack.h, panel.rect.y + panel.rect.h) - 20;
    const y = clamp(panel.barsMid, stack.y + 40, bottom);
    teacherArrow(scene, [
      [panel.rect.x, y],
      [stack.x + stack.w, y],
    ]);
    stackLabel(scene, gapMid, y - 8, label("init layers", `[${link.initLayers.join(", ")}]`));
  }
  if (link.initEmbeddings) {
    const y = embeddings.y + 40; // level with the embeddings' sum → LayerNorm bar
    const end: [number, number] = [embeddings.x + embeddings.w, y];
    const panelBottom = panel.rect.y + panel.rect.h;
    // Straight across when the panel reaches down that far, else down from its bottom first.
    const points: Array<[number, number]> =
      y < panelBottom - 10 ? [[panel.rect.x, y], end] : [[panel.rect.x + 40, panelBottom], [panel.rect.x + 40, y], end];
    teacherArrow(scene, points);
    stackLabel(scene, gapMid, y - 8, label("init embeddings", "word, position, LayerNorm"));
  }
  drawTeacherOutputs(scene, heads, panel.rect);
}

// ---------------------------------------------------------------------------------------
// ELECTRA's generator (right of the encoder).

const GENERATOR_COLOR = "#0f766e";
const GENERATOR_BOX: BoxStyle = { fill: "#f0fdfa", stroke: GENERATOR_COLOR, strokeWidth: 1.5 };

/**
 * The generator's box, level with the encoder: its sizes, its MLM head (tied to the shared
 * word table) and the masking it learns from. An arrow brings it the shared embeddings of
 * the masked input; a dashed one takes its samples back to the discriminator's input.
 */
function layoutGenerator(
  scene: Scene,
  frame: Frame,
  model: ResolvedModel,
  params: GraphOptions["params"] | null,
  stack: Rect,
  embeddings: Rect,
): void {
  const g = model.generator!;
  const E = embeddingWidth(model);
  const mlm = model.objectives.find((o) => o.name === "mlm");
  const lines: Line[] = [
    { text: "GENERATOR", size: 11, bold: true, color: GENERATOR_COLOR },
    { text: `${g.layers} layers · hidden ${g.hidden} · ${g.heads} heads · FFN ${g.intermediate}` },
    { text: "shares the embeddings (word, position, segment, LayerNorm)" },
    ...(E !== g.hidden ? [{ text: `projection E ${E} → ${g.hidden} (its own)` }] : []),
    { text: `MLM head: dense ${g.hidden} → ${E}, LayerNorm, decoder tied to word embeddings`, color: TIE_COLOR },
    { text: maskingSummary(model) },
    ...(mlm ? [{ text: `mlm weight ${mlm.weight}`, color: MUTED }] : []),
    ...paramLine(params, "generator"),
  ];
  const x = frame.teacherX!;
  const h = linesHeight(lines, TEACHER_W - 20) + 24;
  const rect = { x, y: stack.y, w: TEACHER_W, h };
  drawBox(scene, rect, GENERATOR_BOX, lines);

  const gapLeft = frame.laneX + frame.laneW;
  const gapMid = (gapLeft + x) / 2;
  const gapW = x - gapLeft - 16;
  const label = (title: string, detail: string): Line[] =>
    wrapLines(
      [
        { text: title, bold: true, color: GENERATOR_COLOR },
        { text: detail, color: GENERATOR_COLOR },
      ],
      gapW,
    );
  // The shared embeddings of the masked input feed the generator from below.
  const inY = embeddings.y + 40;
  const inX = x + 60;
  scene.shapes.push({
    kind: "path",
    points: [
      [embeddings.x + embeddings.w, inY],
      [inX, inY],
      [inX, rect.y + rect.h],
    ],
    color: GENERATOR_COLOR,
    width: 1.5,
    dashed: false,
    marker: "generator",
  });
  stackLabel(scene, gapMid, inY - 8, label("masked input", "shared embeddings"));
  // Its samples replace the masked tokens: the discriminator's input ids.
  const outX = x + TEACHER_W - 40;
  const inputsY = embeddings.y + embeddings.h + 44;
  scene.shapes.push({
    kind: "path",
    points: [
      [outX, rect.y + rect.h],
      [outX, inputsY],
      [embeddings.x + embeddings.w, inputsY],
    ],
    color: GENERATOR_COLOR,
    width: 1.5,
    dashed: true,
    marker: "generator",
  });
  stackLabel(scene, gapMid, inputsY - 8, label("samples", "replace the masked tokens: the discriminator's input_ids"));
}

/** The teacher's box: name, checkpoint, sizes, and a mini stack of its layers when known. */
function drawTeacherPanel(
  scene: Scene,
  x: number,
  top: number,
  link: NonNullable<ResolvedModel["teacher"]>,
  teacher: ResolvedModel | null,
): { rect: Rect; barsMid: number } {
  const lines: Line[] = [
    { text: "TEACHER", size: 11, bold: true, color: TEACHER_COLOR },
    { text: link.model, size: 16, bold: true },
    { text: link.checkpoint !== null ? `from ${link.checkpoint}` : "no checkpoint given", color: MUTED },
  ];
  if (teacher) {
    lines.push({ text: `${teacher.layers} layers · hidden ${teacher.hidden} · ${teacher.heads} heads` });
    lines.push({ text: `vocab ${formatCount(teacher.vocab)} · frozen` });
  } else {
    lines.push({ text: "frozen" });
  }
  const textH = linesHeight(lines, TEACHER_W - 20);
  const bars = teacher && link.initLayers ? teacher.layers : 0;
  const barH = bars > 24 ? 11 : 16;
  const barsH = bars > 0 ? bars * (barH + 2) + 10 : 0;
  const rect = { x, y: top, w: TEACHER_W, h: textH + barsH + 24 };
  drawBox(scene, rect, TEACHER_BOX, []);
  drawText(scene, { x: x + 10, y: rect.y + 8, w: TEACHER_W - 20, h: textH }, lines);
  if (bars === 0 || !link.initLayers) return { rect, barsMid: rect.y + rect.h / 2 };

  // Top bar = last layer; the layers the student starts from are marked with where they go.
  const studentOf = new Map<number, number>();
  link.initLayers.forEach((t, s) => studentOf.set(t, s));
  const barsTop = rect.y + 8 + textH + 10;
  let y = barsTop;
  for (let t = bars - 1; t >= 0; t--) {
    const student = studentOf.get(t);
    const used = student !== undefined;
    const style: BoxStyle = used ? { fill: "#ede9fe", stroke: TEACHER_COLOR } : { fill: "#ffffff", stroke: "#c4b5fd" };
    drawBox(scene, { x: x + 14, y, w: TEACHER_W - 28, h: barH }, style, [
      {
        text: used ? `T${t} → student layer ${student}` : `T${t}`,
        size: 11,
        bold: used,
        color: used ? TEACHER_COLOR : MUTED,
      },
    ]);
    y += barH + 2;
  }
  return { rect, barsMid: (barsTop + y) / 2 };
}

/**
 * Distillation and cosine read the teacher's outputs: a dashed bus from the teacher box up
 * to just above the heads row, dropping into each box that reads it. The drops land right
 * of centre so they never meet the "MLM logits" bridge, which lands at the centre.
 */
function drawTeacherOutputs(scene: Scene, heads: HeadsLayout, panel: Rect): void {
  const boxes = heads.plans.filter((p) => p.teacherFed).map((p) => heads.boxes.get(p.name)!);
  const rowTop = boxes[0]?.y;
  if (rowTop === undefined) return;
  const x = panel.x + panel.w / 2;
  const busY = rowTop - 11;
  const drops = boxes.map((b) => b.x + b.w - 28);
  teacherArrow(
    scene,
    [
      [x, panel.y],
      [x, busY],
      [Math.min(...drops), busY],
    ],
    false,
  );
  for (const dropX of drops) {
    teacherArrow(scene, [
      [dropX, busY],
      [dropX, rowTop],
    ]);
  }
  stackLabel(
    scene,
    x - 8,
    (busY + panel.y) / 2,
    [
      { text: "teacher outputs", bold: true, color: TEACHER_COLOR },
      { text: "(frozen)", color: TEACHER_COLOR },
    ],
    "end",
  );
}

function teacherArrow(scene: Scene, points: Array<[number, number]>, head = true): void {
  scene.shapes.push({
    kind: "path",
    points,
    color: TEACHER_COLOR,
    width: 2,
    dashed: true,
    marker: head ? "teacher" : null,
  });
}

// ---------------------------------------------------------------------------------------
// Caption: parameter counts per block.

function layoutCaption(scene: Scene, frame: Frame, params: NonNullable<GraphOptions["params"]>, top: number): number {
  const rows = captionRows(params.breakdown);
  rows.push({ label: "encoder", count: formatCount(params.encoder), bold: true });
  rows.push({ label: "total", count: formatCount(params.total), bold: true });
  const rowH = 18;
  const perColumn = Math.ceil(rows.length / 2);
  const h = 34 + perColumn * rowH + 8;
  const rect = { x: frame.colX, y: top, w: frame.colW, h };
  drawBox(scene, rect, { fill: "#ffffff", stroke: "#cbd2d9" }, []);
  addText(scene, rect.x + INNER_PAD, rect.y + 22, "Parameters by block (tied and shared tensors counted once)", {
    size: 13,
    bold: true,
  });
  const colW = (rect.w - 3 * INNER_PAD) / 2;
  rows.forEach((row, i) => {
    const col = Math.floor(i / perColumn);
    const x = rect.x + INNER_PAD + col * (colW + INNER_PAD);
    const y = rect.y + 44 + (i % perColumn) * rowH;
    addText(scene, x, y, row.label, { size: 12, bold: row.bold });
    addText(scene, x + colW - 8, y, row.count, { size: 12, bold: row.bold, anchor: "end" });
  });
  return rect.y + rect.h;
}

interface CaptionRow {
  label: string;
  count: string;
  bold?: boolean;
}

/** Breakdown rows, with runs of equal `layer.N` entries folded into one row. */
function captionRows(breakdown: Record<string, number>): CaptionRow[] {
  const rows: CaptionRow[] = [];
  const entries = Object.entries(breakdown);
  let i = 0;
  while (i < entries.length) {
    const [key, count] = entries[i]!;
    const layer = layerIndex(key);
    let j = i;
    if (layer !== null) {
      while (j + 1 < entries.length) {
        const [nextKey, nextCount] = entries[j + 1]!;
        if (layerIndex(nextKey) !== layer + (j + 1 - i) || nextCount !== count) break;
        j++;
      }
    }
    if (j > i) {
      const n = j - i + 1;
      rows.push({
        label: `layers ${layer}–${layer! + n - 1} (${formatCount(count)} each)`,
        count: formatCount(count * n),
      });
    } else {
      rows.push({ label: blockName(key), count: formatCount(count) });
    }
    i = j + 1;
  }
  return rows;
}

function layerIndex(key: string): number | null {
  if (!key.startsWith("layer.")) return null;
  const n = Number(key.slice("layer.".length));
  return Number.isInteger(n) ? n : null;
}

function blockName(key: string): string {
  if (key === "embedding_projection") return "projection E → H";
  if (key.startsWith("layer.")) return `layer ${key.slice(6)}`;
  if (key.startsWith("group.")) return `group ${key.slice(6)} (shared)`;
  if (key === "head.cosine_projection") return "cosine projection";
  if (key === "generator") return "generator (its own tensors)";
  if (key.startsWith("head.")) return `${key.slice(5).toUpperCase()} head`;
  return key;
}

// ---------------------------------------------------------------------------------------
// Drawing helpers: boxes with wrapped, centred text.

function drawBox(scene: Scene, rect: Rect, style: BoxStyle, lines: Line[]): void {
  scene.shapes.push({
    kind: "rect",
    ...rect,
    fill: style.fill,
    stroke: style.stroke,
    strokeWidth: style.strokeWidth ?? 1,
    dashed: style.dashed ?? false,
  });
  note(scene, rect.y + rect.h);
  if (lines.length > 0) drawText(scene, rect, lines);
}

/** Lines wrapped to the rect's width and centred in it, both ways. */
function drawText(scene: Scene, rect: Rect, lines: Line[]): void {
  const wrapped = wrapLines(lines, rect.w - 12);
  const total = wrapped.reduce((sum, l) => sum + lineHeight(l), 0);
  let y = rect.y + (rect.h - total) / 2;
  for (const line of wrapped) {
    const size = line.size ?? 12;
    y += lineHeight(line);
    addText(scene, rect.x + rect.w / 2, y - (lineHeight(line) - size) / 2 - 2, line.text, {
      ...line,
      anchor: "middle",
    });
  }
}

/** Several lines, stacked upward from `bottomY` (the last line sits on it). */
function stackLabel(scene: Scene, x: number, bottomY: number, lines: Line[], anchor: TextShape["anchor"] = "middle"): void {
  let y = bottomY - (lines.length - 1) * 15;
  for (const line of lines) {
    addText(scene, x, y, line.text, { ...line, anchor });
    y += 15;
  }
}

function lineHeight(line: Line): number {
  return Math.round((line.size ?? 12) * 1.35);
}

function linesHeight(lines: Line[], width: number): number {
  return wrapLines(lines, width).reduce((sum, l) => sum + lineHeight(l), 0);
}

function wrapLines(lines: Line[], width: number): Line[] {
  return lines.flatMap((line) => wrap(line.text, width, line.size ?? 12, line.bold ?? false).map((text) => ({ ...line, text })));
}

/** Greedy word wrap by estimated width; a word longer than a line is split by characters. */
function wrap(text: string, width: number, size: number, bold: boolean): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    for (const piece of splitLong(word, width, size, bold)) {
      const candidate = line === "" ? piece : `${line} ${piece}`;
      if (line !== "" && textWidth(candidate, size, bold) > width) {
        out.push(line);
        line = piece;
      } else {
        line = candidate;
      }
    }
  }
  if (line !== "") out.push(line);
  return out;
}

function splitLong(word: string, width: number, size: number, bold: boolean): string[] {
  const pieces: string[] = [];
  let piece = "";
  for (const ch of word) {
    if (piece !== "" && textWidth(piece + ch, size, bold) > width) {
      pieces.push(piece);
      piece = "";
    }
    piece += ch;
  }
  if (piece !== "") pieces.push(piece);
  return pieces;
}

/**
 * Estimated rendered width. Per-character widths are those of a wide sans-serif (DejaVu
 * Sans, what system-ui often falls back to on Linux), so text fits in narrower fonts too.
 */
function textWidth(text: string, size: number, bold: boolean): number {
  let em = 0;
  for (const ch of text) em += charEm(ch);
  return em * size * (bold ? 1.11 : 1);
}

function charEm(ch: string): number {
  if (ch === " ") return 0.32;
  if ("iljI.,:;|!'()[]{}·".includes(ch)) return 0.34;
  if ("frt-/".includes(ch)) return 0.42;
  if ("mwMW…".includes(ch)) return 0.95;
  if ("‖²".includes(ch)) return 0.5;
  if ("→←×−".includes(ch)) return 0.85;
  if (ch >= "A" && ch <= "Z") return 0.72;
  if (ch >= "0" && ch <= "9") return 0.64;
  return 0.61;
}

function addText(
  scene: Scene,
  x: number,
  y: number,
  text: string,
  style: { size?: number; bold?: boolean; anchor?: TextShape["anchor"]; color?: string },
): void {
  scene.shapes.push({
    kind: "text",
    x,
    y,
    text,
    size: style.size ?? 12,
    bold: style.bold ?? false,
    anchor: style.anchor ?? "start",
    color: style.color ?? INK,
    rotate: 0,
  });
  note(scene, y + 6);
}

/** A data-flow arrow straight up from `fromY` (below) to `toY` (above). */
function upArrow(scene: Scene, x: number, fromY: number, toY: number): void {
  arrow(scene, [
    [x, fromY],
    [x, toY],
  ]);
}

function arrow(scene: Scene, points: Array<[number, number]>): void {
  scene.shapes.push({ kind: "path", points, color: FLOW, width: 1.5, dashed: false, marker: "flow" });
}

/** Keeps track of how far down the picture reaches. */
function note(scene: Scene, y: number): void {
  scene.bottom = Math.max(scene.bottom, y);
}

// ---------------------------------------------------------------------------------------
// Small formatting helpers.

function paramLine(params: GraphOptions["params"] | null, key: string): Line[] {
  const n = params?.breakdown[key];
  return n === undefined ? [] : [{ text: `${shortCount(n)} params`, color: MUTED }];
}

/** 23440896 -> "23.4M"; 1538 -> "1.5K". */
function shortCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

/** 110106428 -> "110,106,428". */
function formatCount(n: number): string {
  const digits = String(Math.round(Math.abs(n)));
  let out = "";
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ",";
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

function percent(rate: number): string {
  return `${Math.round(rate * 1000) / 10}%`;
}

/** [0,1,2,3,5,7,8] -> "0–3, 5, 7–8". */
function formatLayers(layers: number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < layers.length) {
    let j = i;
    while (j + 1 < layers.length && layers[j + 1] === layers[j]! + 1) j++;
    parts.push(j > i ? `${layers[i]}–${layers[j]}` : `${layers[i]}`);
    i = j + 1;
  }
  return parts.join(", ");
}

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

function groupIndex(model: ResolvedModel, group: SharingGroup): number {
  return Math.max(0, model.sharing.indexOf(group));
}

function groupColor(model: ResolvedModel, group: SharingGroup): { fill: string; stroke: string } {
  return GROUP_COLORS[groupIndex(model, group) % GROUP_COLORS.length]!;
}

function midX(rect: Rect): number {
  return rect.x + rect.w / 2;
}

function spanOf(rects: Rect[]): { x: number; w: number } {
  const left = Math.min(...rects.map((r) => r.x));
  const right = Math.max(...rects.map((r) => r.x + r.w));
  return { x: left, w: right - left };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

// ---------------------------------------------------------------------------------------
// Serializer: the only code that writes SVG.

function serialize(scene: Scene, title: string): string {
  const height = Math.ceil(scene.bottom + MARGIN);
  const width = Math.ceil(scene.width);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeXml(FONT)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<defs>${markers()}</defs>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  for (const shape of scene.shapes) out.push(serializeShape(shape));
  out.push("</svg>");
  return out.join("\n") + "\n";
}

function serializeShape(shape: Shape): string {
  switch (shape.kind) {
    case "rect":
      return (
        `<rect x="${num(shape.x)}" y="${num(shape.y)}" width="${num(shape.w)}" height="${num(shape.h)}" rx="4"` +
        ` fill="${shape.fill}" stroke="${shape.stroke}" stroke-width="${num(shape.strokeWidth)}"` +
        (shape.dashed ? ` stroke-dasharray="6 4"` : "") +
        "/>"
      );
    case "text": {
      const rotate = shape.rotate !== 0 ? ` transform="rotate(${shape.rotate} ${num(shape.x)} ${num(shape.y)})"` : "";
      return (
        `<text x="${num(shape.x)}" y="${num(shape.y)}" font-size="${shape.size}"` +
        (shape.bold ? ` font-weight="bold"` : "") +
        (shape.anchor !== "start" ? ` text-anchor="${shape.anchor}"` : "") +
        ` fill="${shape.color}"${rotate}>${escapeXml(shape.text)}</text>`
      );
    }
    case "path": {
      const d = shape.points.map(([x, y], i) => `${i === 0 ? "M" : "L"}${num(x)} ${num(y)}`).join(" ");
      return (
        `<path d="${d}" fill="none" stroke="${shape.color}" stroke-width="${num(shape.width)}" stroke-linejoin="round"` +
        (shape.dashed ? ` stroke-dasharray="6 4"` : "") +
        (shape.marker ? ` marker-end="url(#${shape.marker})"` : "") +
        "/>"
      );
    }
  }
}

/** Arrowheads, one per colour (SVG 1.1 markers cannot take the colour of their path). */
function markers(): string {
  const colors: Array<[MarkerName, string]> = [
    ["flow", FLOW],
    ["teacher", TEACHER_COLOR],
    ["generator", GENERATOR_COLOR],
    ["tie", TIE_COLOR],
    ...GROUP_COLORS.map((c, i): [MarkerName, string] => [`loop${i}` as MarkerName, c.stroke]),
  ];
  return colors
    .map(
      ([id, color]) =>
        `<marker id="${id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">` +
        `<path d="M0 0 L10 5 L0 10 z" fill="${color}"/></marker>`,
    )
    .join("");
}

/** Rounded to 0.1 so the output is short and the same on every platform. */
function num(v: number): string {
  const r = Math.round(v * 10) / 10;
  return String(Object.is(r, -0) ? 0 : r);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}
