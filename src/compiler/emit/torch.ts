/**
 * Emitter for the torch engine: a resolved model → one PyTorch module (`build/NAME.py`), the
 * counterpart of the TypeScript training graph. It holds the resolved config, the parameter
 * table (the same names, shapes, initialisers and weight decay as the TypeScript graph's,
 * read from `model/parameters.ts`), the layers as `nn.Module`s whose parameters carry those
 * names, the forward pass, the heads the model has and its loss with each term. It imports
 * torch alone: the support package (`python/bdl_torch`) drives it. Only what the model uses
 * is written; the same model gives the same bytes.
 */
import {
  attentionConfig,
  embeddingWidth,
  feedForwardKind,
  hasAttentionNorm,
  hasBias,
  hasLocalLayers,
  isTeacherObjective,
  normPosition,
  objective,
  type ResolvedModel,
} from "../../model/model.js";
import { INITIALIZER_RANGE, parameterTable, type ParamSpec } from "../../model/parameters.js";
import { discriminatorModel, generatorModel, GENERATOR_PREFIX } from "../../model/generator.js";
import { PythonWriter, pyLiteral } from "./python.js";

export interface EmittedModule {
  /** File name under the output folder, e.g. `bert-mini.py`. */
  fileName: string;
  text: string;
}

export function torchFileName(modelName: string): string {
  return `${modelName}.py`;
}

const LAYER_TENSOR = /^(?:generator\.)?(?:layers|groups)\./;

/** What the model has, each a switch for a piece of the module. */
interface Features {
  preNorm: boolean;
  gated: boolean;
  firstNormless: boolean;
  rotary: boolean;
  local: boolean;
  /** Local layers rotate by a base of their own. */
  twoBases: boolean;
  attentionBias: boolean;
  mlpBias: boolean;
  normBias: boolean;
  classifierBias: boolean;
  decoderBias: boolean;
  pooler: boolean;
  mlm: boolean;
  nsp: boolean;
  sop: boolean;
  distill: boolean;
  cosine: boolean;
  cosineProjection: boolean;
  projection: boolean;
  segments: boolean;
  documents: boolean;
  sharing: boolean;
  generator: boolean;
  generatorProjection: boolean;
  rtd: boolean;
  positionOffset: boolean;
}

/** The PyTorch module of `model`; `teacher` is its teacher's resolved model, if it has one. */
export function emitTorchModule(model: ResolvedModel, teacher: ResolvedModel | null = null): EmittedModule {
  return { fileName: torchFileName(model.name), text: new TorchWriter(model, teacher).write() };
}

class TorchWriter {
  private readonly w = new PythonWriter();
  private readonly has: Features;
  /** The model's own encoder: the discriminator when it has a generator. */
  private readonly own: ResolvedModel;
  private readonly table: ParamSpec[];

  constructor(
    private readonly model: ResolvedModel,
    private readonly teacher: ResolvedModel | null,
  ) {
    this.own = model.generator ? discriminatorModel(model) : model;
    this.table = parameterTable(model, teacher);
    const names = new Set(this.table.map((p) => p.name));
    const a = attentionConfig(model);
    this.has = {
      preNorm: normPosition(model) === "pre",
      gated: feedForwardKind(model) === "gated",
      firstNormless: !hasAttentionNorm(model, 0),
      rotary: a.rotary !== null,
      local: hasLocalLayers(model),
      twoBases: a.rotary !== null && hasLocalLayers(model) && (a.local_rotary ?? a.rotary) !== a.rotary,
      attentionBias: hasBias(model, "attention"),
      mlpBias: hasBias(model, "mlp"),
      normBias: hasBias(model, "norm"),
      classifierBias: hasBias(model, "classifier"),
      decoderBias: hasBias(model, "decoder"),
      pooler: model.pooler === "tanh",
      mlm: objective(this.own, "mlm") !== undefined,
      nsp: objective(model, "nsp") !== undefined,
      sop: objective(model, "sop") !== undefined,
      distill: objective(model, "distill") !== undefined && teacher !== null,
      cosine: objective(model, "cosine") !== undefined && teacher !== null,
      cosineProjection: names.has("heads.cosine.projection.kernel"),
      projection: names.has("embeddings.projection.kernel"),
      segments: model.embeddings.segments > 0,
      documents: model.train.document_mask === true,
      sharing: model.sharing.length > 0,
      generator: model.generator !== undefined,
      generatorProjection: names.has(`${GENERATOR_PREFIX}embeddings.projection.kernel`),
      rtd: objective(model, "rtd") !== undefined,
      positionOffset: model.embeddings.offset > 0,
    };
  }

  write(): string {
    this.writeHeader();
    this.writeConstants();
    this.writeParameterTable();
    this.writeFunctions();
    this.writeLayers();
    this.writeEncoder();
    if (this.has.mlm || this.has.generator) this.writeMlmHead();
    if (this.has.rtd) this.writeRtdHead();
    if (this.has.generator) this.writeGenerator();
    this.writeBatch();
    if (this.has.distill || this.has.cosine) this.writeTeacher();
    this.writeModel();
    return this.w.text();
  }

  private writeHeader(): void {
    const m = this.model;
    const w = this.w;
    const chain = m.bases.length > 0 ? `, extends ${m.bases.map((b) => pyLiteral(b)).join(" -> ")}` : "";
    w.line(`# PyTorch module of model ${pyLiteral(m.name)} (${pyLiteral(m.file)}${chain}).`);
    w.line("# Generated by `bdlc compile --target torch`: do not edit; change the .bdl file and compile again.");
    w.line('"""The encoder, its pretraining heads and its loss, with the tensors named as in the model\'s parameter table."""');
    w.line();
    w.line("from __future__ import annotations");
    w.line();
    w.line("import math");
    w.line("from dataclasses import dataclass");
    w.line("from typing import Callable, Optional");
    w.line();
    w.line("import torch");
    w.line("import torch.nn.functional as F");
    w.line("from torch import Tensor, nn");
    w.line();
    w.line("# The resolved model this module was compiled from.");
    w.line(`CONFIG = ${pyLiteral(m)}`);
  }

  private writeConstants(): void {
    const m = this.model;
    const w = this.w;
    w.line();
    w.line(`NORM_EPS = ${m.norm_eps}`);
    w.line(`DROPOUT = ${m.dropout}`);
    w.line(`ATTENTION_DROPOUT = ${m.attention_dropout}`);
    w.line(`PAD_ID = ${m.special["pad"] ?? 0}`);
    if (this.has.positionOffset)
      w.line(`POSITION_OFFSET = ${m.embeddings.offset}  # the first real token's position; padding takes the row before it`);
    w.line(`INITIALIZER_RANGE = ${INITIALIZER_RANGE}  # the standard deviation of the normal initialiser`);
    w.line("IGNORE = -100  # the label of a position that is not predicted");
    w.line("MASKED = torch.finfo(torch.float32).min  # what the scores of a key that may not be attended get added");
    w.line("# PyTorch's fused scaled_dot_product_attention (torch 2.x) instead of the products written out; the trainer");
    w.line("# turns it on for CUDA. Off, the attention is computed exactly as the tfjs engine computes it.");
    w.line("FUSED_ATTENTION = False");
    const a = attentionConfig(m);
    if (this.has.local) {
      w.line(`WINDOW = ${a.window}  # a local layer's keys: within WINDOW // 2 positions either side`);
      w.line(`GLOBAL_EVERY = ${a.global_every}  # layers 0, GLOBAL_EVERY, 2 * GLOBAL_EVERY, ... attend to every key`);
    }
    if (this.has.rotary) {
      w.line(`ROTARY_BASE = ${a.rotary}`);
      if (this.has.twoBases) w.line(`LOCAL_ROTARY_BASE = ${a.local_rotary}`);
    }
    if (this.has.distill) w.line(`TEMPERATURE = ${objective(m, "distill")!.temperature}`);
  }

  // ── the parameter table ────────────────────────────────────────────────────────────

  private writeParameterTable(): void {
    const w = this.w;
    w.gap();
    w.line("@dataclass(frozen=True)");
    w.block("class Spec:", () => {
      w.line('"""One tensor of the parameter table."""');
      w.line();
      w.line("name: str");
      w.line("shape: tuple[int, ...]");
      w.line('init: str  # "normal", "zeros" or "ones"');
      w.line("decay: bool  # whether weight decay applies");
    });
    const { before, after } = this.tableParts();
    const layered = this.table.filter((p) => LAYER_TENSOR.test(p.name));
    // The layer tensors come from owner functions, checked here against the table itself.
    const own = layered.filter((p) => !p.name.startsWith(GENERATOR_PREFIX));
    const generated = layered.filter((p) => p.name.startsWith(GENERATOR_PREFIX));
    this.writeSublayerTables();
    if (this.has.sharing) this.writeOwners();
    this.writeLayerTensors();
    const spec = (p: ParamSpec) => `Spec(${pyLiteral(p.name)}, ${pyTuple(p.shape)}, ${pyLiteral(p.init)}, ${p.decay ? "True" : "False"})`;
    w.gap();
    w.line(`# The parameter table: every tensor's name, shape, initialiser and weight decay (${this.table.length} tensors).`);
    const isGenerator = (p: ParamSpec) => p.name.startsWith(GENERATOR_PREFIX);
    const generatorEmbeddings = after.filter((p) => isGenerator(p) && p.name.startsWith(`${GENERATOR_PREFIX}embeddings.`));
    w.block("PARAMETERS: list[Spec] = [", () => {
      for (const p of before) w.line(`${spec(p)},`);
      if (own.length > 0) w.line(`*layer_tensors(${this.layerArgs(this.own)}),`);
      for (const p of after.filter((p) => !isGenerator(p))) w.line(`${spec(p)},`);
      for (const p of generatorEmbeddings) w.line(`${spec(p)},`);
      if (generated.length > 0) w.line(`*layer_tensors(${this.layerArgs(generatorModel(this.model))}, prefix="generator."),`);
      for (const p of after.filter((p) => isGenerator(p) && !generatorEmbeddings.includes(p))) w.line(`${spec(p)},`);
    });
    w.line("]");
  }

  /** The non-layer tensors before the first layer tensor and after the last (generator's embeddings are after). */
  private tableParts(): { before: ParamSpec[]; after: ParamSpec[] } {
    const first = this.table.findIndex((p) => LAYER_TENSOR.test(p.name));
    const before = first < 0 ? this.table : this.table.slice(0, first);
    const after = first < 0 ? [] : this.table.slice(first).filter((p) => !LAYER_TENSOR.test(p.name));
    return { before, after };
  }

  private layerArgs(m: ResolvedModel): string {
    return `${m.layers}, ${m.hidden}, ${m.intermediate}`;
  }

  private writeSublayerTables(): void {
    const w = this.w;
    const normArgs = this.has.firstNormless ? ", norm: bool = True" : "";
    const normSpecs = (prefix: string, width: string) => [
      `Spec(f"{owner}.${prefix}.weight", (${width},), "ones", False)`,
      ...(this.has.normBias ? [`Spec(f"{owner}.${prefix}.bias", (${width},), "zeros", False)`] : []),
    ];
    const denseSpecs = (prefix: string, shape: string, out: string, bias: boolean) => [
      `Spec(f"{owner}.${prefix}.kernel", (${shape}), "normal", True)`,
      ...(bias ? [`Spec(f"{owner}.${prefix}.bias", (${out},), "zeros", False)`] : []),
    ];
    w.gap();
    w.block(`def attention_tensors(owner: str, hidden: int${normArgs}) -> list[Spec]:`, () => {
      w.line('"""The tensors of one attention sublayer, named under their owner (a layer, or a sharing group)."""');
      const dense = ["query", "key", "value", "output"].flatMap((d) =>
        denseSpecs(`attention.${d}`, "hidden, hidden", "hidden", this.has.attentionBias),
      );
      if (this.has.firstNormless) {
        w.block("tensors = [", () => dense.forEach((s) => w.line(`${s},`)));
        w.line("]");
        w.line("# Layer 0 has no attention LayerNorm: the embeddings' LayerNorm comes right before it.");
        w.block("if norm:", () => {
          w.line(`tensors += [${normSpecs("attention.norm", "hidden").join(", ")}]`);
        });
        w.line("return tensors");
      } else {
        w.block("return [", () => [...dense, ...normSpecs("attention.norm", "hidden")].forEach((s) => w.line(`${s},`)));
        w.line("]");
      }
    });
    w.gap();
    const inputs = this.has.gated ? "2 * intermediate" : "intermediate";
    w.block("def feed_forward_tensors(owner: str, hidden: int, intermediate: int) -> list[Spec]:", () => {
      w.line(
        this.has.gated
          ? '"""The tensors of one feed-forward sublayer; the intermediate kernel holds the input columns, then the gate\'s."""'
          : '"""The tensors of one feed-forward sublayer."""',
      );
      w.block("return [", () =>
        [
          ...denseSpecs("ffn.intermediate", `hidden, ${inputs}`, inputs, this.has.mlpBias),
          ...denseSpecs("ffn.output", "intermediate, hidden", "hidden", this.has.mlpBias),
          ...normSpecs("ffn.norm", "hidden"),
        ].forEach((s) => w.line(`${s},`)),
      );
      w.line("]");
    });
  }

  /** `attention_owner(layer)` and `feed_forward_owner(layer)`: the sharing group that owns the sublayer, else the layer. */
  private writeOwners(): void {
    const m = this.model;
    const w = this.w;
    for (const [part, fn, what] of [
      ["attention", "attention_owner", "attention"],
      ["ffn", "feed_forward_owner", "feed-forward"],
    ] as const) {
      w.gap();
      w.block(`def ${fn}(layer: int) -> str:`, () => {
        w.line(`"""Who owns layer \`layer\`'s ${what} sublayer: its sharing group, else the layer itself."""`);
        m.sharing.forEach((g, index) => {
          if (!g.share.includes(part)) return;
          const every = g.layers.length === m.layers ? "every layer" : `${g.layers.length} layers`;
          w.line(`# Sharing group ${pyLiteral(g.name)}: ${every}.`);
          w.block(`if layer in CONFIG["sharing"][${index}]["layers"]:`, () => w.line(`return ${pyLiteral(`groups.${g.name}`)}`));
        });
        w.line('return f"layers.{layer}"');
      });
    }
  }

  private writeLayerTensors(): void {
    const w = this.w;
    const norm = this.has.firstNormless ? ", norm=layer != 0" : "";
    w.gap();
    if (!this.has.sharing) {
      w.block('def layer_tensors(layers: int, hidden: int, intermediate: int, prefix: str = "") -> list[Spec]:', () => {
        w.line('"""Each layer\'s tensors, in layer order."""');
        w.line("tensors: list[Spec] = []");
        w.block("for layer in range(layers):", () => {
          w.line(`tensors += attention_tensors(f"{prefix}layers.{layer}", hidden${norm})`);
          w.line('tensors += feed_forward_tensors(f"{prefix}layers.{layer}", hidden, intermediate)');
        });
        w.line("return tensors");
      });
      return;
    }
    w.block('def layer_tensors(layers: int, hidden: int, intermediate: int, prefix: str = "") -> list[Spec]:', () => {
      w.line('"""Each layer\'s tensors, in layer order; a sharing group\'s once, at its first layer (the generator shares none)."""');
      w.line("tensors: list[Spec] = []");
      w.line("listed: set[str] = set()");
      w.block("for layer in range(layers):", () => {
        w.line('attention = f"{prefix}layers.{layer}" if prefix else attention_owner(layer)');
        w.line('ffn = f"{prefix}layers.{layer}" if prefix else feed_forward_owner(layer)');
        w.block('if f"{attention}.attention" not in listed:', () => {
          w.line('listed.add(f"{attention}.attention")');
          w.line(`tensors += attention_tensors(attention, hidden${norm})`);
        });
        w.block('if f"{ffn}.ffn" not in listed:', () => {
          w.line('listed.add(f"{ffn}.ffn")');
          w.line("tensors += feed_forward_tensors(ffn, hidden, intermediate)");
        });
      });
      w.line("return tensors");
    });
  }

  // ── functions of the inputs ───────────────────────────────────────────────────────

  private writeFunctions(): void {
    const w = this.w;
    w.gap();
    w.block("def activation(x: Tensor) -> Tensor:", () => {
      const [doc, body] = ACTIVATIONS[this.model.activation];
      w.line(`"""${doc}"""`);
      w.line(`return ${body}`);
    });
    if (!this.has.rotary) this.writePositionIds();
    w.gap();
    if (this.has.documents) {
      w.block("def attention_bias(attention_mask: Tensor, document_ids: Optional[Tensor]) -> Tensor:", () => {
        w.line('"""[B, S] 1/0 → [B, 1, 1, S]: finfo.min on the scores of padding keys. With packed documents, [B, 1, S, S]:');
        w.line('a query also sees no key of another document, so each document is encoded as if it were alone."""');
        w.block("if document_ids is None:", () => w.line("return (1.0 - attention_mask[:, None, None, :].float()) * MASKED"));
        w.line("same = document_ids[:, None, :, None] == document_ids[:, None, None, :]  # [B, 1, S, S]");
        w.line("allowed = same & attention_mask[:, None, None, :].bool()");
        w.line("return torch.zeros(allowed.shape, device=allowed.device).masked_fill(~allowed, MASKED)");
      });
    } else {
      w.block("def attention_bias(attention_mask: Tensor) -> Tensor:", () => {
        w.line('"""[B, S] 1/0 → [B, 1, 1, S]: (1 − mask) · finfo.min, added to the scores of padding keys, as Hugging Face does."""');
        w.line("return (1.0 - attention_mask[:, None, None, :].float()) * MASKED");
      });
    }
    if (this.has.local) {
      w.gap();
      w.block("def local_attention_bias(bias: Tensor) -> Tensor:", () => {
        w.line('"""A local layer\'s bias, [B, 1, S, S]: one large negative value for every key that is padding or farther than');
        w.line("WINDOW // 2 from the query. One value for both reasons, finfo.min / 2, keeps a query that sees no key at all");
        w.line('uniform over its keys, as Hugging Face\'s (a sum of two would overflow to −inf and give NaN)."""');
        w.line("seq = bias.shape[-1]");
        w.line("index = torch.arange(seq, device=bias.device)");
        w.line("far = (index[None, :] - index[:, None]).abs() > WINDOW // 2  # [S, S]");
        w.line("band = torch.zeros(seq, seq, device=bias.device).masked_fill(far, MASKED)");
        w.line("return torch.minimum(bias, band).clamp(min=MASKED / 2)");
      });
    }
    if (this.has.rotary) {
      w.gap();
      w.block("def rotary_tables(seq: int, head_width: int, base: float, device: torch.device) -> tuple[Tensor, Tensor]:", () => {
        w.line('"""cos and sin of every position\'s angles, [S, d] each: the d/2 frequencies base^(-2i/d), twice over (the');
        w.line('"rotate half" layout of RoPE, as Hugging Face computes them in float32)."""');
        w.line("inverse = 1.0 / (base ** (torch.arange(0, head_width, 2, device=device).float() / head_width))");
        w.line("angles = torch.outer(torch.arange(seq, device=device).float(), inverse)");
        w.line("angles = torch.cat((angles, angles), dim=-1)");
        w.line("return angles.cos(), angles.sin()");
      });
      w.gap();
      w.block("def rotate(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:", () => {
        w.line('"""[B, heads, S, d] rotated by position: x · cos + rotate_half(x) · sin, rotate_half(x1, x2) = (−x2, x1)."""');
        w.line("x1, x2 = x.chunk(2, dim=-1)");
        w.line("return x * cos + torch.cat((-x2, x1), dim=-1) * sin");
      });
    }
  }

  private writePositionIds(): void {
    const w = this.w;
    w.gap();
    if (this.has.documents) {
      w.block("def position_ids(input_ids: Tensor, document_ids: Optional[Tensor]) -> Tensor:", () => {
        w.line(
          this.has.positionOffset
            ? '"""[B, S] positions: real tokens count up from POSITION_OFFSET, padding takes the row before it; with packed documents each counts from its own start."""'
            : '"""[B, S] positions 0, 1, 2, ...; with packed documents each document counts from its own start."""',
        );
        w.line("batch, seq = input_ids.shape");
        w.line(this.has.positionOffset ? "real = (input_ids != PAD_ID).long()" : "real = torch.ones_like(input_ids)");
        w.line("before = torch.cumsum(real, dim=1) - real  # the counted tokens before each position");
        w.block("if document_ids is None:", () => w.line("start = torch.zeros_like(before)"));
        w.block("else:", () => {
          w.line("starts = torch.ones_like(input_ids, dtype=torch.bool)");
          w.line("starts[:, 1:] = document_ids[:, 1:] != document_ids[:, :-1]");
          w.line("# `before` never decreases: its running maximum over document starts is the count at the current one.");
          w.line("start = torch.cummax(torch.where(starts, before, torch.zeros_like(before)), dim=1).values");
        });
        if (this.has.positionOffset) {
          w.line("position = POSITION_OFFSET + before - start");
          w.line("return torch.where(input_ids == PAD_ID, torch.full_like(position, POSITION_OFFSET - 1), position)");
        } else {
          w.line("return before - start");
        }
      });
      return;
    }
    w.block("def position_ids(input_ids: Tensor) -> Tensor:", () => {
      if (this.has.positionOffset) {
        w.line(
          '"""[B, S] positions: real tokens count up from POSITION_OFFSET, padding takes the row before it, as Hugging Face\'s create_position_ids_from_input_ids."""',
        );
        w.line("real = (input_ids != PAD_ID).long()");
        w.line("return torch.cumsum(real, dim=1) * real + (POSITION_OFFSET - 1)");
      } else {
        w.line('"""[B, S] positions 0, 1, 2, ... in every row."""');
        w.line("return torch.arange(input_ids.shape[1], device=input_ids.device).expand_as(input_ids)");
      }
    });
  }

  // ── layers ────────────────────────────────────────────────────────────────────────

  private writeLayers(): void {
    const w = this.w;
    const anyBiasless = !this.has.attentionBias || !this.has.mlpBias || !this.has.classifierBias;
    w.gap();
    w.block("class Dense(nn.Module):", () => {
      w.line('"""x · kernel + bias, the kernel [in, out] as the parameter table stores it."""');
      w.line();
      w.block(`def __init__(self, n_in: int, n_out: int${anyBiasless ? ", bias: bool = True" : ""}) -> None:`, () => {
        w.line("super().__init__()");
        w.line("self.kernel = nn.Parameter(torch.empty(n_in, n_out))");
        w.line(`self.bias = nn.Parameter(torch.empty(n_out))${anyBiasless ? " if bias else None" : ""}`);
      });
      w.line();
      w.block("def forward(self, x: Tensor) -> Tensor:", () => w.line("return F.linear(x, self.kernel.t(), self.bias)"));
    });
    w.gap();
    w.block("class LayerNorm(nn.Module):", () => {
      w.line(
        this.has.normBias
          ? '"""LayerNorm over the last axis (biased variance), with weight and bias."""'
          : '"""LayerNorm over the last axis (biased variance), with a weight and no bias."""',
      );
      w.line();
      w.block("def __init__(self, width: int) -> None:", () => {
        w.line("super().__init__()");
        w.line("self.weight = nn.Parameter(torch.empty(width))");
        w.line(this.has.normBias ? "self.bias = nn.Parameter(torch.empty(width))" : "self.bias = None");
      });
      w.line();
      w.block("def forward(self, x: Tensor) -> Tensor:", () =>
        w.line("return F.layer_norm(x, self.weight.shape, self.weight, self.bias, NORM_EPS)"),
      );
    });
    this.writeEmbeddings();
    this.writeAttention();
    this.writeFeedForward();
  }

  private writeEmbeddings(): void {
    const m = this.model;
    const w = this.w;
    const e = embeddingWidth(m);
    const positionPad = m.embeddings.offset > 0 ? m.embeddings.offset - 1 : null;
    w.gap();
    w.block("class Embeddings(nn.Module):", () => {
      const parts = ["token", ...(this.has.rotary ? [] : ["position"]), ...(this.has.segments ? ["segment"] : [])].join(" + ");
      w.line(
        `"""${parts} embeddings, LayerNorm and dropout: [B, S] → [B, S, ${e}]${this.has.projection ? `, projected to [B, S, ${m.hidden}]` : ""}."""`,
      );
      w.line();
      w.block("def __init__(self) -> None:", () => {
        w.line("super().__init__()");
        w.line(`self.word = nn.Parameter(torch.empty(${m.vocab}, ${e}))`);
        if (!this.has.rotary) w.line(`self.position = nn.Parameter(torch.empty(${m.embeddings.positions + m.embeddings.offset}, ${e}))`);
        if (this.has.segments) w.line(`self.segment = nn.Parameter(torch.empty(${m.embeddings.segments}, ${e}))`);
        w.line(`self.norm = LayerNorm(${e})`);
        if (this.has.projection) w.line(`self.projection = Dense(${e}, ${m.hidden})  # factorized embeddings: E → H`);
        w.line("self.dropout = nn.Dropout(DROPOUT)");
      });
      const args = this.embedArgs();
      w.line();
      w.block(`def embed(self, ${args.params}) -> Tensor:`, () => {
        w.line(`"""[B, S] → [B, S, ${e}], before any projection."""`);
        w.line("# The padding row's lookup gets no gradient, as nn.Embedding(padding_idx=...) in Hugging Face's models.");
        w.line("h = F.embedding(input_ids, self.word, padding_idx=PAD_ID)");
        if (!this.has.rotary)
          w.line(`h = h + F.embedding(positions, self.position${positionPad === null ? "" : `, padding_idx=${positionPad}`})`);
        if (this.has.segments) {
          w.block("if token_type_ids is None:", () => w.line("token_type_ids = torch.zeros_like(input_ids)"));
          w.line("h = h + F.embedding(token_type_ids, self.segment)");
        }
        w.line("return self.dropout(self.norm(h))");
      });
      w.line();
      w.block(`def forward(self, ${args.params}) -> Tensor:`, () => {
        w.line(this.has.projection ? `return self.projection(self.embed(${args.call}))` : `return self.embed(${args.call})`);
      });
    });
  }

  /** The parameters of `Embeddings.embed` and the arguments that pass them on. */
  private embedArgs(): { params: string; call: string } {
    const params = ["input_ids: Tensor"];
    const call = ["input_ids"];
    if (!this.has.rotary) {
      params.push("positions: Tensor");
      call.push("positions");
    }
    if (this.has.segments) {
      params.push("token_type_ids: Optional[Tensor]");
      call.push("token_type_ids");
    }
    return { params: params.join(", "), call: call.join(", ") };
  }

  private writeAttention(): void {
    const w = this.w;
    const rotary = this.has.rotary ? ", rotary: tuple[Tensor, Tensor]" : "";
    const rotaryArg = this.has.rotary ? ", rotary" : "";
    w.gap();
    w.block("class Attention(nn.Module):", () => {
      w.line(
        this.has.preNorm
          ? '"""Multi-head self-attention, pre-LN: x + attend(LayerNorm(x))."""'
          : '"""Multi-head self-attention, post-LN: LayerNorm(x + attend(x))."""',
      );
      w.line();
      const normParam = this.has.firstNormless ? ", norm: bool = True" : "";
      w.block(`def __init__(self, hidden: int, heads: int${normParam}) -> None:`, () => {
        w.line("super().__init__()");
        w.line("self.heads = heads");
        const bias = this.has.attentionBias ? "" : ", bias=False";
        for (const d of ["query", "key", "value", "output"]) w.line(`self.${d} = Dense(hidden, hidden${bias})`);
        if (this.has.firstNormless) {
          w.line("# Layer 0 has none: the embeddings' LayerNorm comes right before it.");
          w.line("self.norm = LayerNorm(hidden) if norm else None");
        } else {
          w.line("self.norm = LayerNorm(hidden)");
        }
        w.line("self.dropout = nn.Dropout(DROPOUT)");
      });
      w.line();
      w.block(`def forward(self, x: Tensor, bias: Tensor${rotary}) -> Tensor:`, () => {
        if (!this.has.preNorm) w.line(`return self.norm(x + self.attend(x, bias${rotaryArg}))`);
        else if (this.has.firstNormless) w.line(`return x + self.attend(x if self.norm is None else self.norm(x), bias${rotaryArg})`);
        else w.line(`return x + self.attend(self.norm(x), bias${rotaryArg})`);
      });
      w.line();
      w.block(`def attend(self, x: Tensor, bias: Tensor${rotary}) -> Tensor:`, () => {
        w.line('"""[B, S, H] → [B, S, H]; `bias` is [B, 1, 1, S] or [B, 1, S, S]. Padded query rows are computed too."""');
        w.line("batch, seq, hidden = x.shape");
        w.line("width = hidden // self.heads");
        w.line("q = self.query(x).view(batch, seq, self.heads, width).transpose(1, 2)  # [B, heads, S, d]");
        w.line("k = self.key(x).view(batch, seq, self.heads, width).transpose(1, 2)");
        w.line("v = self.value(x).view(batch, seq, self.heads, width).transpose(1, 2)");
        if (this.has.rotary) {
          w.line("q = rotate(q, *rotary)");
          w.line("k = rotate(k, *rotary)");
        }
        w.block("if FUSED_ATTENTION:", () => {
          w.line("# The bias in the queries' dtype, kept finite: a row with no key to see stays uniform, not NaN.");
          w.line("mask = bias.to(q.dtype).clamp(min=torch.finfo(q.dtype).min)");
          w.line("dropout = ATTENTION_DROPOUT if self.training else 0.0");
          w.line("context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)");
        });
        w.block("else:", () => {
          w.line("scores = q @ k.transpose(-1, -2) * (1.0 / math.sqrt(width)) + bias  # [B, heads, S, S]");
          w.line("context = F.dropout(scores.softmax(dim=-1), ATTENTION_DROPOUT, self.training) @ v");
        });
        w.line("context = context.transpose(1, 2).reshape(batch, seq, hidden)");
        w.line("return self.dropout(self.output(context))");
      });
    });
  }

  private writeFeedForward(): void {
    const w = this.w;
    const bias = this.has.mlpBias ? "" : ", bias=False";
    w.gap();
    w.block("class FeedForward(nn.Module):", () => {
      const kind = this.has.gated ? "gated (act(input) * gate)" : "act(x · Wi) · Wo";
      w.line(
        this.has.preNorm
          ? `"""The position-wise feed-forward sublayer, ${kind}, pre-LN: x + ffn(LayerNorm(x))."""`
          : `"""The position-wise feed-forward sublayer, ${kind}, post-LN: LayerNorm(x + ffn(x))."""`,
      );
      w.line();
      w.block("def __init__(self, hidden: int, intermediate: int) -> None:", () => {
        w.line("super().__init__()");
        if (this.has.gated) w.line(`self.intermediate = Dense(hidden, 2 * intermediate${bias})  # input columns, then the gate's`);
        else w.line(`self.intermediate = Dense(hidden, intermediate${bias})`);
        w.line(`self.output = Dense(intermediate, hidden${bias})`);
        w.line("self.norm = LayerNorm(hidden)");
        w.line("self.dropout = nn.Dropout(DROPOUT)");
      });
      w.line();
      w.block("def forward(self, x: Tensor) -> Tensor:", () => {
        w.line(this.has.preNorm ? "return x + self.transform(self.norm(x))" : "return self.norm(x + self.transform(x))");
      });
      w.line();
      w.block("def transform(self, x: Tensor) -> Tensor:", () => {
        w.line('"""[B, S, H] → [B, S, I] → [B, S, H], with dropout on the output."""');
        if (this.has.gated) {
          w.line("input, gate = self.intermediate(x).chunk(2, dim=-1)");
          w.line("return self.dropout(self.output(activation(input) * gate))");
        } else {
          w.line("return self.dropout(self.output(activation(self.intermediate(x))))");
        }
      });
    });
  }

  // ── the encoder ───────────────────────────────────────────────────────────────────

  private writeEncoder(): void {
    const w = this.w;
    w.gap();
    w.line("@dataclass");
    w.block("class Encoded:", () => {
      w.line('"""What the encoder gives."""');
      w.line();
      w.line("last_hidden_state: Tensor  # [B, S, H]");
      w.line(`hidden_states: list[Tensor]  # the embedding output fed to layer 0, then each layer's output`);
      if (this.has.pooler) w.line("pooler_output: Optional[Tensor] = None  # [B, H] tanh(dense(h[:, 0]))");
    });
    if (this.has.sharing) {
      w.gap();
      w.block("class Sublayers(nn.Module):", () => {
        w.line('"""The sublayers one owner holds: a layer those it does not share, a sharing group those its layers share."""');
      });
    } else {
      w.gap();
      w.block("class Layer(nn.Module):", () => {
        w.line('"""One encoder layer: attention, then feed-forward."""');
        w.line();
        const normParam = this.has.firstNormless ? ", norm: bool = True" : "";
        w.block(`def __init__(self, hidden: int, heads: int, intermediate: int${normParam}) -> None:`, () => {
          w.line("super().__init__()");
          w.line(`self.attention = Attention(hidden, heads${this.has.firstNormless ? ", norm" : ""})`);
          w.line("self.ffn = FeedForward(hidden, intermediate)");
        });
      });
    }
    w.gap();
    w.block("class Encoder(nn.Module):", () => {
      w.line(
        this.has.preNorm
          ? '"""Embeddings, then the pre-LN layers, then a final LayerNorm."""'
          : '"""Embeddings, then the post-LN layers."""',
      );
      w.line();
      const pooler = this.has.pooler && this.has.generator ? ", pooler: bool" : "";
      const owners = this.has.sharing ? ", shared: bool" : "";
      w.block(
        `def __init__(self, embeddings: nn.Module, layers: int, hidden: int, heads: int, intermediate: int${owners}${pooler}) -> None:`,
        () => {
          w.line("super().__init__()");
          w.line("self.embeddings = embeddings");
          if (this.has.rotary) w.line("self.heads_per_layer = heads  # rotary tables are per head");
          const norm = this.has.firstNormless ? ", norm=layer != 0" : "";
          if (this.has.sharing) {
            w.line("# Each owner's sublayers are built once; the layers of a sharing group hold the same modules.");
            w.line("self.layers = nn.ModuleDict()");
            w.line("self.groups = nn.ModuleDict()");
            w.line("self.stack: list[tuple[Attention, FeedForward]] = []  # a plain list: the modules are named under their owners");
            w.block("for layer in range(layers):", () => {
              w.line('attention = attention_owner(layer) if shared else f"layers.{layer}"');
              w.line('ffn = feed_forward_owner(layer) if shared else f"layers.{layer}"');
              w.line("self.stack.append(");
              w.line("    (");
              w.line(`        self.sublayer(attention, "attention", lambda: Attention(hidden, heads${norm})),`);
              w.line('        self.sublayer(ffn, "ffn", lambda: FeedForward(hidden, intermediate)),');
              w.line("    )");
              w.line(")");
            });
          } else {
            const loopVar = this.has.firstNormless ? "layer" : "_";
            w.line(`self.layers = nn.ModuleList(Layer(hidden, heads, intermediate${norm}) for ${loopVar} in range(layers))`);
          }
          if (this.has.preNorm)
            w.line('self.encoder = nn.ModuleDict({"final_norm": LayerNorm(hidden)})  # named encoder.final_norm in the table');
          if (this.has.pooler)
            w.line(this.has.generator ? "self.pooler = Dense(hidden, hidden) if pooler else None" : "self.pooler = Dense(hidden, hidden)");
        },
      );
      if (this.has.sharing) {
        w.line();
        w.block("def sublayer(self, owner: str, part: str, build: Callable[[], nn.Module]) -> nn.Module:", () => {
          w.line('"""The `part` sublayer of `owner` ("layers.3" or "groups.NAME"), built on first use."""');
          w.line('kind, key = owner.split(".", 1)');
          w.line('registry = self.groups if kind == "groups" else self.layers');
          w.block("if key not in registry:", () => w.line("registry[key] = Sublayers()"));
          w.block("if not hasattr(registry[key], part):", () => w.line("setattr(registry[key], part, build())"));
          w.line("return getattr(registry[key], part)");
        });
      }
      w.line();
      const params = ["input_ids: Tensor", "attention_mask: Tensor"];
      if (this.has.segments) params.push("token_type_ids: Optional[Tensor] = None");
      if (this.has.documents) params.push("document_ids: Optional[Tensor] = None");
      w.block(`def encode(self, ${params.join(", ")}) -> Encoded:`, () => {
        w.line('"""[B, S] token ids → the hidden states."""');
        const docs = this.has.documents ? ", document_ids" : "";
        const embedCall = [
          "input_ids",
          ...(this.has.rotary ? [] : ["position_ids(input_ids" + docs + ")"]),
          ...(this.has.segments ? ["token_type_ids"] : []),
        ];
        w.line(`h = self.embeddings(${embedCall.join(", ")})  # [B, S, H]`);
        w.line("hidden_states = [h]");
        w.line(`bias = attention_bias(attention_mask${docs})`);
        if (this.has.local) w.line("local_bias = local_attention_bias(bias)");
        if (this.has.rotary) {
          w.line("seq, width = input_ids.shape[1], h.shape[-1] // self.heads_per_layer");
          w.line("rotary = rotary_tables(seq, width, ROTARY_BASE, h.device)");
          if (this.has.twoBases) w.line("local_rotary = rotary_tables(seq, width, LOCAL_ROTARY_BASE, h.device)");
        }
        const rotaryArg = !this.has.rotary ? "" : this.has.twoBases ? ", local_rotary if local else rotary" : ", rotary";
        // Shared sublayers come from the stack of (attention, ffn) pairs; otherwise each layer holds its own.
        const pair = this.has.local ? "(attention, ffn)" : "attention, ffn";
        const [attention, ffn, items] = this.has.sharing ? ["attention", "ffn", pair] : ["layer.attention", "layer.ffn", "layer"];
        const source = this.has.sharing ? "self.stack" : "self.layers";
        const loop = this.has.local ? `for i, ${items} in enumerate(${source}):` : `for ${items} in ${source}:`;
        w.block(loop, () => {
          if (this.has.local) {
            w.line("local = i % GLOBAL_EVERY != 0");
            w.line(`h = ${attention}(h, local_bias if local else bias${rotaryArg})`);
          } else {
            w.line(`h = ${attention}(h, bias${rotaryArg})`);
          }
          w.line(`h = ${ffn}(h)`);
          w.line("hidden_states.append(h)");
        });
        if (this.has.preNorm) {
          w.line("# Pre-LN layers leave their sum unnormalised; as in Hugging Face's pre-LN encoders the last state is normalised.");
          w.line('h = self.encoder["final_norm"](h)');
          w.line("hidden_states[-1] = h");
        }
        if (this.has.pooler) {
          if (this.has.generator) w.line("pooled = torch.tanh(self.pooler(h[:, 0])) if self.pooler is not None else None");
          else w.line("pooled = torch.tanh(self.pooler(h[:, 0]))  # the [CLS] summary");
          w.line("return Encoded(h, hidden_states, pooled)");
        } else {
          w.line("return Encoded(h, hidden_states)");
        }
      });
    });
  }

  private writeMlmHead(): void {
    const w = this.w;
    const bias = this.has.classifierBias ? "" : ", bias=False";
    w.gap();
    w.block("class MlmHead(nn.Module):", () => {
      w.line('"""[N, H] → [N, V]: dense H → E, activation, LayerNorm, then the word-embedding table (tied) as the decoder."""');
      w.line();
      w.block("def __init__(self, hidden: int, width: int, vocab: int) -> None:", () => {
        w.line("super().__init__()");
        w.line(`self.transform = Dense(hidden, width${bias})`);
        w.line("self.norm = LayerNorm(width)");
        w.line(
          this.has.decoderBias ? "self.bias = nn.Parameter(torch.empty(vocab))" : "self.bias = None  # the decoder has no bias of its own",
        );
      });
      w.line();
      w.block("def forward(self, h: Tensor, word: Tensor) -> Tensor:", () =>
        w.line("return F.linear(self.norm(activation(self.transform(h))), word, self.bias)"),
      );
    });
  }

  private writeRtdHead(): void {
    const w = this.w;
    w.gap();
    w.block("class RtdHead(nn.Module):", () => {
      w.line('"""ELECTRA\'s discriminator head, [B, S, H] → [B, S]: dense H → H, activation, one logit per token (replaced?)."""');
      w.line();
      w.block("def __init__(self, hidden: int) -> None:", () => {
        w.line("super().__init__()");
        w.line("self.transform = Dense(hidden, hidden)");
        w.line("self.output = Dense(hidden, 1)");
      });
      w.line();
      w.block("def forward(self, h: Tensor) -> Tensor:", () => w.line("return self.output(activation(self.transform(h))).squeeze(-1)"));
    });
  }

  private writeGenerator(): void {
    const w = this.w;
    const g = generatorModel(this.model);
    const e = embeddingWidth(this.model);
    w.gap();
    w.block("class GeneratorEmbeddings(nn.Module):", () => {
      w.line('"""The generator\'s embeddings: the model\'s own tables (shared), then its own projection where its width differs."""');
      w.line();
      w.block("def __init__(self, shared: Embeddings) -> None:", () => {
        w.line("super().__init__()");
        w.line("# Held in a tuple, out of the module tree: its tensors are named once, as the model's own.");
        w.line("self.shared = (shared,)");
        if (this.has.generatorProjection) w.line(`self.projection = Dense(${e}, ${g.hidden})`);
      });
      const args = this.embedArgs();
      w.line();
      w.block(`def forward(self, ${args.params}) -> Tensor:`, () => {
        w.line(
          this.has.generatorProjection
            ? `return self.projection(self.shared[0].embed(${args.call}))`
            : `return self.shared[0].embed(${args.call})`,
        );
      });
    });
    w.gap();
    w.block("class Generator(Encoder):", () => {
      w.line('"""ELECTRA\'s generator: a small masked-language model on the shared embeddings, whose samples corrupt the input."""');
      w.line();
      w.block("def __init__(self, shared: Embeddings) -> None:", () => {
        const extra = [...(this.has.sharing ? ["shared=False"] : []), ...(this.has.pooler ? ["pooler=False"] : [])];
        w.line(
          `super().__init__(GeneratorEmbeddings(shared), ${g.layers}, ${g.hidden}, ${g.heads}, ${g.intermediate}${extra.map((x) => ", " + x).join("")})`,
        );
        w.line(`self.heads = nn.ModuleDict({"mlm": MlmHead(${g.hidden}, ${e}, ${this.model.vocab})})`);
      });
      w.line();
      w.block("def mlm_logits(self, h: Tensor) -> Tensor:", () => {
        w.line(`"""[N, ${g.hidden}] → [N, ${this.model.vocab}]; the decoder is the shared word-embedding table."""`);
        w.line('return self.heads["mlm"](h, self.embeddings.shared[0].word)');
      });
    });
  }

  // ── batches, the teacher, the model and its loss ──────────────────────────────────

  private writeBatch(): void {
    const w = this.w;
    w.gap();
    w.line("@dataclass");
    w.block("class Batch:", () => {
      w.line('"""One batch: the inputs and the labels of the model\'s objectives."""');
      w.line();
      w.line("input_ids: Tensor  # [B, S] token ids");
      w.line("attention_mask: Tensor  # [B, S] 1 for tokens, 0 for padding");
      if (this.has.mlm || this.has.generator)
        w.line("labels: Tensor  # [B, S] the original token at predicted positions, IGNORE elsewhere");
      if (this.has.nsp) w.line("next_sentence_label: Tensor  # [B] 0 = B follows A, 1 = B is random");
      if (this.has.sop) w.line("sentence_order_label: Tensor  # [B] 0 = in order, 1 = swapped");
      if (this.has.segments) w.line("token_type_ids: Optional[Tensor] = None  # [B, S] segment ids; zeros when absent");
      if (this.has.documents) w.line("document_ids: Optional[Tensor] = None  # [B, S] each token's packed document");
      if (this.has.generator)
        w.line("generator_samples: Optional[Tensor] = None  # [B, S] samples to replay at the predicted positions (-1 elsewhere)");
    });
  }

  private writeTeacher(): void {
    const w = this.w;
    const t = this.teacher!;
    w.gap();
    w.line(`# The teacher: model ${pyLiteral(t.name)}.`);
    w.line("@dataclass");
    w.block("class TeacherOutputs:", () => {
      w.line('"""What the frozen teacher says about a batch, at its real (non-padding) positions."""');
      w.line();
      if (this.has.distill) w.line(`logits: Tensor  # [N, ${t.vocab}] its MLM logits`);
      if (this.has.cosine) w.line(`hidden: Tensor  # [N, ${t.hidden}] its last hidden states`);
    });
    w.gap();
    w.line("@torch.no_grad()");
    w.block("def teacher_outputs(teacher: nn.Module, input_ids: Tensor, attention_mask: Tensor) -> TeacherOutputs:", () => {
      w.line('"""Run the teacher (in eval mode) without segment ids, as DistilBERT\'s distiller does."""');
      w.line("out = teacher.encode(input_ids, attention_mask)");
      w.line("real = attention_mask.reshape(-1).bool()");
      w.line("hidden = out.last_hidden_state.reshape(-1, out.last_hidden_state.shape[-1])[real]");
      const fields = [...(this.has.distill ? ["teacher.mlm_logits(hidden)"] : []), ...(this.has.cosine ? ["hidden"] : [])];
      w.line(`return TeacherOutputs(${fields.join(", ")})`);
    });
  }

  private writeModel(): void {
    const w = this.w;
    const m = this.model;
    const e = embeddingWidth(m);
    const terms = m.objectives.filter((o) => this.teacher !== null || !isTeacherObjective(o.name));
    w.gap();
    this.writeTotals();
    if (this.has.generator) this.writeReplacement();
    w.block("class Model(Encoder):", () => {
      const formula = terms.map((o) => `${o.weight} × ${o.name}`).join(" + ") || "no objectives";
      w.line(`"""The encoder, its heads and its pretraining loss, ${formula}."""`);
      w.line();
      w.block("def __init__(self) -> None:", () => {
        const extra = [...(this.has.sharing ? ["shared=True"] : []), ...(this.has.pooler && this.has.generator ? ["pooler=True"] : [])];
        w.line(
          `super().__init__(Embeddings(), ${m.layers}, ${m.hidden}, ${m.heads}, ${m.intermediate}${extra.map((x) => ", " + x).join("")})`,
        );
        const heads: string[] = [];
        if (this.has.mlm) heads.push(`"mlm": MlmHead(${m.hidden}, ${e}, ${m.vocab})`);
        if (this.has.nsp) heads.push(`"nsp": Dense(${m.hidden}, 2)`);
        if (this.has.sop) heads.push(`"sop": Dense(${m.hidden}, 2)`);
        if (this.has.rtd) heads.push(`"rtd": RtdHead(${m.hidden})`);
        if (this.has.cosineProjection) heads.push(`"cosine": nn.ModuleDict({"projection": Dense(${m.hidden}, ${this.teacher!.hidden})})`);
        const oneLine = `self.heads = nn.ModuleDict({${heads.join(", ")}})`;
        if (heads.length > 0 && oneLine.length <= 100) w.line(oneLine);
        else if (heads.length > 0) {
          w.line("self.heads = nn.ModuleDict(");
          w.line("    {");
          for (const h of heads) w.line(`        ${h},`);
          w.line("    }");
          w.line(")");
        }
        if (this.has.generator) w.line("self.generator = Generator(self.embeddings)");
        w.line("check_parameters(self)");
      });
      if (this.has.mlm) {
        w.line();
        w.block("def mlm_logits(self, h: Tensor) -> Tensor:", () => {
          w.line(`"""[N, ${m.hidden}] → [N, ${m.vocab}]; the decoder is the word-embedding table itself (weight tying)."""`);
          w.line('return self.heads["mlm"](h, self.embeddings.word)');
        });
      }
      for (const name of ["nsp", "sop"] as const) {
        if (!this.has[name]) continue;
        const what = name === "nsp" ? "is segment B the segment that followed A" : "are the two segments in their original order";
        w.line();
        w.block(`def ${name}_logits(self, pooled: Tensor) -> Tensor:`, () => {
          w.line(`"""[B, ${m.hidden}] → [B, 2]: ${what}?"""`);
          w.line(`return self.heads["${name}"](pooled)`);
        });
      }
      if (this.has.rtd) {
        w.line();
        w.block("def rtd_logits(self, h: Tensor) -> Tensor:", () => {
          w.line(`"""[B, S, ${m.hidden}] → [B, S]: for each token, the logit that it was replaced."""`);
          w.line('return self.heads["rtd"](h)');
        });
      }
      w.line();
      this.writeLoss(terms.map((o) => o.name));
      w.line();
      w.line("forward = loss  # calling the model, as DistributedDataParallel does, computes the loss");
      w.line();
      w.block("def initialize(self, generator: Optional[torch.Generator] = None) -> None:", () => {
        w.line('"""Fresh weights as the table says: normal ones N(0, INITIALIZER_RANGE²), zeros and ones; the pad row 0."""');
        w.line("params = dict(self.named_parameters())");
        w.block("with torch.no_grad():", () => {
          w.block("for spec in PARAMETERS:", () => {
            w.line("p = params[spec.name]");
            w.block('if spec.init == "normal":', () => w.line("p.normal_(0.0, INITIALIZER_RANGE, generator=generator)"));
            w.block("else:", () => w.line('p.fill_(1.0 if spec.init == "ones" else 0.0)'));
          });
          w.line('params["embeddings.word"][PAD_ID].zero_()');
        });
      });
    });
    w.gap();
    w.block("def check_parameters(model: nn.Module) -> None:", () => {
      w.line('"""The module\'s parameters are the table\'s, by name and shape: one definition of every tensor."""');
      w.line("ours = {name: tuple(p.shape) for name, p in model.named_parameters()}");
      w.line("table = {spec.name: spec.shape for spec in PARAMETERS}");
      w.block("if ours != table:", () => {
        w.line("differ = sorted(set(ours.items()) ^ set(table.items()))");
        w.line('raise AssertionError(f"internal error: the module\'s parameters differ from the table: {differ}")');
      });
    });
  }

  /** What each term is a mean over, counted over a whole global batch or a batch of its own. */
  private totalsFields(): { name: string; what: string; count: string }[] {
    const fields = [];
    if (this.has.mlm || this.has.generator)
      fields.push({ name: "labelled", what: "positions with an MLM label", count: "int((b.labels != IGNORE).sum())" });
    if (this.has.distill || this.has.cosine || this.has.rtd)
      fields.push({ name: "real", what: "real (non-padding) tokens", count: "int(b.attention_mask.sum())" });
    if (this.has.nsp || this.has.sop) fields.push({ name: "sequences", what: "sequences", count: "b.input_ids.shape[0]" });
    return fields;
  }

  private writeTotals(): void {
    const w = this.w;
    const fields = this.totalsFields();
    w.line("@dataclass(frozen=True)");
    w.block("class Totals:", () => {
      w.line('"""What each term averages over. Training passes the counts of the whole global batch (every rank\'s and');
      w.line("micro-batch's part), so that the parts' gradients add up to the batch's exactly; a batch of its own is the");
      w.line('default, and then each term is its mean."""');
      w.line();
      for (const f of fields) w.line(`${f.name}: int  # ${f.what}`);
      w.line();
      w.line("@staticmethod");
      w.block("def of(b: Batch) -> Totals:", () => {
        w.line(`return Totals(${fields.map((f) => f.count).join(", ")})`);
      });
    });
    w.gap();
  }

  private writeReplacement(): void {
    const w = this.w;
    w.block("def sample_tokens(logits: Tensor) -> Tensor:", () => {
      w.line('"""One token per row of `logits` [N, V], drawn from its softmax (torch\'s generator)."""');
      w.line("return torch.multinomial(logits.double().softmax(dim=-1), 1).squeeze(-1)");
    });
    w.gap();
    w.block("def replace_tokens(input_ids: Tensor, labels: Tensor, samples: Tensor) -> tuple[Tensor, Tensor]:", () => {
      w.line('"""The discriminator\'s input, the originals with `samples` [N] at the N labelled positions (row-major), and');
      w.line('[B, S] float 1 where a token differs from the original (a sample equal to it counts as original)."""');
      w.line("predicted = labels != IGNORE");
      w.line("original = torch.where(predicted, labels, input_ids)");
      w.line("corrupted = original.clone()");
      w.line("corrupted[predicted] = samples.to(corrupted.dtype)");
      w.line("return corrupted, (corrupted != original).float()");
    });
    w.gap();
  }

  private writeLoss(terms: string[]): void {
    const w = this.w;
    const m = this.model;
    const weights = new Map(m.objectives.map((o) => [o.name as string, o.weight]));
    const teacherParam = this.has.distill || this.has.cosine ? ", teacher: TeacherOutputs" : "";
    const sampler = this.has.generator ? ", sample: Callable[[Tensor], Tensor] = sample_tokens" : "";
    const totals = ", totals: Optional[Totals] = None";
    w.block(`def loss(self, b: Batch${teacherParam}${totals}${sampler}) -> tuple[Tensor, dict[str, Tensor], Encoded]:`, () => {
      w.line('"""The loss, each objective\'s unweighted term (a sum over the batch divided by its total), and the encoder\'s outputs."""');
      w.line("n = totals or Totals.of(b)");
      const encodeArgs = (ids: string) => {
        const args = [ids, "b.attention_mask"];
        if (this.has.segments) args.push("b.token_type_ids");
        if (this.has.documents) args.push(this.has.segments ? "b.document_ids" : "document_ids=b.document_ids");
        return args.join(", ");
      };
      if (this.has.generator) {
        const g = generatorModel(m);
        w.line("# The generator reads the masked tokens and predicts the originals at the labelled positions: [N, Hg] → [N, V].");
        w.line(`generated = self.generator.encode(${encodeArgs("b.input_ids")})`);
        w.line("labels = b.labels.reshape(-1)");
        w.line("predicted = labels != IGNORE");
        w.line(`generator_logits = self.generator.mlm_logits(generated.last_hidden_state.reshape(-1, ${g.hidden})[predicted])`);
        w.line('mlm = F.cross_entropy(generator_logits, labels[predicted], reduction="sum") / max(n.labelled, 1)');
        w.line("# Each labelled position takes a sample from the generator's softmax (data: no gradient flows through it).");
        w.block("if b.generator_samples is not None:", () => w.line("samples = b.generator_samples.reshape(-1)[predicted]"));
        w.block("else:", () => w.line("samples = sample(generator_logits.detach())"));
        w.line("corrupted, replaced = replace_tokens(b.input_ids, b.labels, samples)");
        w.line("# The discriminator tells, for every real token, whether it is a replacement.");
        w.line(`outputs = self.encode(${encodeArgs("corrupted")})`);
        w.line("real = b.attention_mask.bool()");
        w.line("logits = self.rtd_logits(outputs.last_hidden_state)[real]");
        w.line('rtd = F.binary_cross_entropy_with_logits(logits, replaced[real], reduction="sum") / max(n.real, 1)');
      } else {
        w.line(`outputs = self.encode(${encodeArgs("b.input_ids")})`);
      }
      const h = `outputs.last_hidden_state.reshape(-1, ${m.hidden})`;
      if (this.has.distill || this.has.cosine) {
        w.line("# Distillation looks at every real (non-padding) position; MLM at the labelled ones among them.");
        w.line("real = b.attention_mask.reshape(-1).bool()");
        w.line(`hidden = ${h}[real]  # [N, H]`);
      }
      if (this.has.mlm) {
        if (this.has.distill) {
          w.line("logits = self.mlm_logits(hidden)  # [N, V]");
          w.line("labels = b.labels.reshape(-1)[real]");
          w.line("predicted = labels != IGNORE");
          w.line('mlm = F.cross_entropy(logits[predicted], labels[predicted], reduction="sum") / max(n.labelled, 1)');
        } else {
          w.line("# MLM logits only at the labelled positions: [N, H] → [N, V].");
          w.line("labels = b.labels.reshape(-1)");
          w.line("predicted = labels != IGNORE");
          w.line(`logits = self.mlm_logits(${h}[predicted])`);
          w.line('mlm = F.cross_entropy(logits, labels[predicted], reduction="sum") / max(n.labelled, 1)');
        }
      }
      for (const [name, label] of [
        ["nsp", "next_sentence_label"],
        ["sop", "sentence_order_label"],
      ] as const) {
        if (this.has[name])
          w.line(`${name} = F.cross_entropy(self.${name}_logits(outputs.pooler_output), b.${label}, reduction="sum") / n.sequences`);
      }
      if (this.has.distill) {
        const logits = this.has.mlm ? "logits" : "self.mlm_logits(hidden)";
        w.line("# KL(teacher ‖ student) of the softened distributions, averaged over positions, times T² (Hinton et al. 2015).");
        w.line(`student = F.log_softmax(${logits} / TEMPERATURE, dim=-1)`);
        w.line("target = F.log_softmax(teacher.logits / TEMPERATURE, dim=-1)");
        w.line('distill = F.kl_div(student, target, reduction="sum", log_target=True) / max(n.real, 1) * TEMPERATURE**2');
      }
      if (this.has.cosine) {
        const student = this.has.cosineProjection ? 'self.heads["cosine"]["projection"](hidden)' : "hidden";
        w.line("same = torch.ones(hidden.shape[0], device=hidden.device)  # every pair is meant to point the same way");
        w.line(`cosine = F.cosine_embedding_loss(${student}, teacher.hidden, same, reduction="sum") / max(n.real, 1)`);
      }
      const sum = terms.map((n) => (weights.get(n) === 1 ? n : `${weights.get(n)} * ${n}`));
      w.line(`loss = ${sum.length === 0 ? "outputs.last_hidden_state.sum() * 0.0" : sum.join(" + ")}`);
      w.line(`return loss, {${terms.map((n) => `"${n}": ${n}`).join(", ")}}, outputs`);
    });
  }
}

const ACTIVATIONS: Record<ResolvedModel["activation"], [doc: string, body: string]> = {
  gelu: ["The exact GELU, x · Φ(x).", "F.gelu(x)"],
  gelu_new: ["GELU's tanh approximation (Hugging Face's gelu_new).", 'F.gelu(x, approximate="tanh")'],
  relu: ["ReLU.", "F.relu(x)"],
  silu: ["SiLU, x · σ(x).", "F.silu(x)"],
};

function pyTuple(shape: number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}
