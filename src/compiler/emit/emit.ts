/**
 * Emitter: a resolved model → one typed TypeScript module, its training graph. The module
 * holds the resolved config, the parameter table, typed parameters/inputs/outputs, the
 * forward pass, each objective and the loss, written with ts-morph and formatted with
 * prettier. It sees only the resolved model; the code it writes calls the runtime
 * (`bdl/runtime`) for the building blocks. Only what the model uses is emitted: no
 * branches for features it lacks. Output is deterministic: same model, same bytes.
 */
import { Project, VariableDeclarationKind, type CodeBlockWriter, type SourceFile } from "ts-morph";
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
  SENTENCE_PAIR_OBJECTIVES,
  SHARED_PARTS,
  type ResolvedModel,
  type SharedPart,
} from "../../model/model.js";
import { parameterTable, type ParamSpec } from "../../model/parameters.js";
import { discriminatorModel, generatorModel, isSharedWithGenerator } from "../../model/generator.js";
import { hfLayerPrefix, hfNaming, type HfLayerPrefix } from "../../model/hf/names.js";

export interface EmittedGraph {
  /** File name under the output folder, e.g. `bert-mini.ts`. */
  fileName: string;
  text: string;
}

/** Module specifier of the runtime in emitted code. */
export const RUNTIME_MODULE = "bdl/runtime";

export function graphFileName(modelName: string): string {
  return `${modelName}.ts`;
}

/** Module specifier by which a model with a generator imports the generator's graph (emitted next to it; see `generatorModel`). */
export function generatorModuleSpecifier(model: ResolvedModel): string {
  return `./${generatorModel(model).name}.js`;
}

/** Module specifier by which a student's graph imports its teacher's (the teacher's module sits next to it). */
export function teacherModuleSpecifier(teacherName: string): string {
  return `./${teacherName}.js`;
}

/** The emitted module for `model`; `teacher` is its teacher's resolved model, if it has one. */
export async function emitGraph(model: ResolvedModel, teacher: ResolvedModel | null = null): Promise<EmittedGraph> {
  const project = new Project({ useInMemoryFileSystem: true });
  const file = project.createSourceFile(graphFileName(model.name), "");
  new GraphWriter(model, teacher, file).write();
  const prettier = await import("prettier");
  const text = await prettier.format(file.getFullText(), { parser: "typescript", printWidth: 110 });
  return { fileName: graphFileName(model.name), text };
}

/**
 * `value` as a JavaScript literal: the only form in which text from a .bdl file or the file
 * system (paths, names, strings) may reach emitted code. JSON escapes quotes, backslashes
 * and line breaks; on top of that nothing in it can end a comment (`*\/`) or an HTML script
 * (`<\/`), or act inside a template literal (backtick, `${`), and U+2028/2029 are escaped,
 * so the same text is also safe inside a comment.
 */
export function literal(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent)
    .replaceAll("*/", "*\\/")
    .replaceAll("</", "<\\/")
    .replaceAll("`", "\\u0060")
    .replaceAll("${", "\\u0024{")
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}

/** A fixed name (of the compiler's own, never user text) as the text of a template literal. */
function templateText(text: string): string {
  if (/[`\\$]/.test(text)) throw new Error(`internal error: '${text}' cannot be written into a template literal`);
  return text;
}

/** A layer's sublayer as the parameter table lists it: its owner, and its tensors' names under the owner. */
interface SublayerUnit {
  owner: string;
  part: SharedPart;
  tensors: ParamSpec[];
}

const LAYER_TENSOR = new RegExp(`^((?:layers|groups)\\.[^.]+)\\.(${SHARED_PARTS.join("|")})\\.`);

/** Names the emitted code uses for each kind of sublayer. */
const PART_NAMES = {
  attention: {
    what: "attention",
    owner: "AttentionOwner",
    tensor: "AttentionTensor",
    tensors: "attentionTensors",
    ownerOf: "attentionOwner",
  },
  ffn: {
    what: "feed-forward",
    owner: "FeedForwardOwner",
    tensor: "FeedForwardTensor",
    tensors: "feedForwardTensors",
    ownerOf: "feedForwardOwner",
  },
} as const satisfies Record<SharedPart, unknown>;
/** The sublayers in the model's order, each with the name of its owner type. */
const PARTS = SHARED_PARTS.map((part) => ({ part, owner: PART_NAMES[part].owner }));

/** The parameter table as the tensors before the layers, each layer's sublayers in order, and the tensors after. */
function splitTable(table: ParamSpec[]): { before: ParamSpec[]; units: SublayerUnit[]; after: ParamSpec[] } {
  const before: ParamSpec[] = [];
  const units: SublayerUnit[] = [];
  const after: ParamSpec[] = [];
  for (const spec of table) {
    const match = LAYER_TENSOR.exec(spec.name);
    if (!match) {
      (units.length === 0 ? before : after).push(spec);
      continue;
    }
    if (after.length > 0) throw new Error(`internal error: layer tensor ${spec.name} after the heads`);
    const [owner, part] = [match[1]!, match[2] as SharedPart];
    const last = units.at(-1);
    if (last && last.owner === owner && last.part === part) last.tensors.push(spec);
    else units.push({ owner, part, tensors: [spec] });
  }
  return { before, units, after };
}

class GraphWriter {
  private readonly table: ParamSpec[];
  private readonly layout: { before: ParamSpec[]; units: SublayerUnit[]; after: ParamSpec[] };
  private readonly hfNames: Map<string, string>;
  private readonly hfPrefix: HfLayerPrefix;
  private readonly has: {
    preNorm: boolean;
    gated: boolean;
    /** Layer 0 has no attention LayerNorm (ModernBERT). */
    firstNormless: boolean;
    rotary: boolean;
    /** Some layers attend within a window. */
    local: boolean;
    attentionBias: boolean;
    mlpBias: boolean;
    normBias: boolean;
    pooler: boolean;
    mlm: boolean;
    nsp: boolean;
    sop: boolean;
    distill: boolean;
    cosine: boolean;
    projection: boolean;
    segments: boolean;
    cosineProjection: boolean;
    /** ELECTRA: the model is the discriminator of a generator whose graph is a module of its own. */
    generator: boolean;
    rtd: boolean;
  };

  constructor(
    private readonly model: ResolvedModel,
    private readonly teacher: ResolvedModel | null,
    private readonly file: SourceFile,
  ) {
    // With a generator this module is the discriminator's, and the generator's tensors come from its own module.
    const own = model.generator ? discriminatorModel(model) : model;
    this.table = parameterTable(own, teacher);
    this.layout = splitTable(this.table);
    this.hfNames = new Map(hfNaming(own).names.map((n) => [n.name, n.hf]));
    this.hfPrefix = hfLayerPrefix(own);
    const names = new Set(this.table.map((p) => p.name));
    this.has = {
      preNorm: normPosition(model) === "pre",
      gated: feedForwardKind(model) === "gated",
      firstNormless: !hasAttentionNorm(model, 0),
      rotary: attentionConfig(model).rotary !== null,
      local: hasLocalLayers(model),
      attentionBias: hasBias(model, "attention"),
      mlpBias: hasBias(model, "mlp"),
      normBias: hasBias(model, "norm"),
      pooler: model.pooler === "tanh",
      mlm: objective(own, "mlm") !== undefined,
      nsp: objective(model, "nsp") !== undefined,
      sop: objective(model, "sop") !== undefined,
      distill: objective(model, "distill") !== undefined && teacher !== null,
      cosine: objective(model, "cosine") !== undefined && teacher !== null,
      projection: names.has("embeddings.projection.kernel"),
      segments: model.embeddings.segments > 0,
      cosineProjection: names.has("heads.cosine.projection.kernel"),
      generator: model.generator !== undefined,
      rtd: objective(model, "rtd") !== undefined,
    };
  }

  write(): void {
    const m = this.model;
    const chain = m.bases.length > 0 ? `, extends ${m.bases.map((b) => literal(b)).join(" → ")}` : "";
    this.file.insertText(
      0,
      `/**\n * Training graph of model ${literal(m.name)} (${literal(m.file)}${chain}).\n * Generated by \`bdlc compile\` — do not edit; change the .bdl file and compile again.\n */\n`,
    );
    this.file.addImportDeclaration({ moduleSpecifier: RUNTIME_MODULE, namespaceImport: "rt" });
    this.file.addImportDeclaration({
      moduleSpecifier: RUNTIME_MODULE,
      isTypeOnly: true,
      namedImports: ["Randomness", "Scalar", "Tensor", "Tensor1D", "Tensor2D", "Tensor3D"],
    });
    if (this.teacher && (this.has.distill || this.has.cosine)) {
      this.file.addStatements(`import * as teacherGraph from ${literal(teacherModuleSpecifier(this.teacher.name))};`);
    }
    if (this.has.generator) {
      this.file.addStatements(`import * as generatorGraph from ${literal(generatorModuleSpecifier(this.model))};`);
      this.file.addStatements(
        "\n/** The generator's graph, which `bdlc run` and evaluation reach through this module. */\nexport { generatorGraph };",
      );
    }
    this.writeConfig();
    if (this.has.generator) this.writeGeneratorTable();
    this.writeParameterTable();
    this.writeParams();
    this.writeBindParams();
    this.writeOptions();
    this.writeInputsAndEncode();
    this.writeHeads();
    this.writeLoss();
  }

  private writeConfig(): void {
    this.file.addVariableStatement({
      declarationKind: VariableDeclarationKind.Const,
      isExported: true,
      declarations: [{ name: "config", type: "rt.ModelConfig", initializer: literal(this.model, 2) }],
      leadingTrivia: "\n/** The resolved model this graph was compiled from. */\n",
    });
  }

  private writeParameterTable(): void {
    const m = this.model;
    const { before, after } = this.layout;
    const named = (specs: ParamSpec[]) => specs.map((p) => literal(p.name));
    const ownerTypes = PARTS.map(({ part, owner }) => `\`\${${owner}}.\${${PART_NAMES[part].tensor}}\``);
    const generatorTypes = this.has.generator ? ["`generator.${generatorGraph.ParamName}`"] : [];
    this.file.addTypeAlias({
      isExported: true,
      name: "ParamName",
      type: [...named(before), ...ownerTypes, ...named(after), ...generatorTypes].join(" | "),
      leadingTrivia: this.has.generator
        ? "\n/** Every parameter's name: the embeddings', each layer's (under its owner), the heads' and the generator's own. */\n"
        : "\n/** Every parameter's name: the embeddings', each layer's (under its owner) and the heads'. */\n",
    });
    for (const { part, owner } of PARTS) {
      const { tensor, what } = PART_NAMES[part];
      this.file.addTypeAlias({
        name: tensor,
        type: this.sublayer(part)
          .map((t) => literal(t.local))
          .join(" | "),
        leadingTrivia: `\n/** The tensors of a layer's ${what} sublayer, named under their owner. */\n`,
      });
      const owners = [
        ...new Set(
          this.layout.units
            .filter((u) => u.part === part)
            .map((u) => (u.owner.startsWith("layers.") ? "`layers.${number}`" : literal(u.owner))),
        ),
      ];
      this.file.addTypeAlias({
        isExported: true,
        name: owner,
        type: owners.join(" | "),
        leadingTrivia: `\n/** Who owns a layer's ${what} sublayer: the layer itself (\`layers.<i>\`) or its sharing group (\`groups.<name>\`). */\n`,
      });
    }
    this.file.addInterface({
      name: "Owner",
      typeParameters: [{ name: "Name", constraint: "string" }],
      properties: [
        { name: "name", type: "Name" },
        { name: "group", type: "string | null", docs: ["The sharing group whose layers all use the tensors, if one owns them."] },
        { name: "hf", type: "string", docs: ["Where Hugging Face checkpoints keep the tensors: the prefix of their names."] },
      ],
      leadingTrivia: "\n/** The owner of a layer's sublayer. */\n",
    });
    if (this.hasOwnLayers) {
      // The prefix of layer i's Hugging Face names as a template over `layer`: asked with a marker for i.
      const marker = "\u0000";
      const [head = "", tail, ...more] = this.hfPrefix.ownLayer(marker).split(marker);
      if (tail === undefined || more.length > 0)
        throw new Error("internal error: a layer's Hugging Face prefix does not hold its index once");
      const hf = `${templateText(head)}\${layer}${templateText(tail)}`;
      this.file.addFunction({
        name: "ownLayer",
        parameters: [{ name: "layer", type: "number" }],
        returnType: "Owner<`layers.${number}`>",
        statements: [`return { name: \`layers.\${layer}\`, group: null, hf: \`${hf}\` };`],
        leadingTrivia: "\n/** Layer `layer`, owning its sublayer itself. */\n",
      });
    }
    if (m.sharing.length > 0) for (const { part, owner } of PARTS) this.writeOwnerOf(part, owner);
    this.file.addTypeAlias({ name: "Spec", type: "rt.ParamSpec & { name: ParamName }", leadingTrivia: "\n" });
    for (const { part, owner } of PARTS) {
      const { what, tensors } = PART_NAMES[part];
      this.file.addFunction({
        name: tensors,
        parameters: [{ name: "{ name, group, hf }", type: `Owner<${owner}>` }],
        returnType: "Spec[]",
        leadingTrivia: `\n/** The tensors of one ${what} sublayer. */\n`,
        statements: (w) => {
          const spec = (t: ReturnType<GraphWriter["sublayer"]>[number]) =>
            `{ name: \`\${name}.${templateText(t.local)}\`, shape: ${literal(t.shape)}, init: ${literal(t.init)}, group, decay: ${t.decay}, hf: \`\${hf}.${templateText(t.hf)}\` }`;
          const tensors = this.sublayer(part);
          const isNorm = (t: (typeof tensors)[number]) =>
            part === "attention" && this.has.firstNormless && t.local.startsWith("attention.norm.");
          const norms = tensors.filter(isNorm);
          w.writeLine(norms.length > 0 ? "const tensors: Spec[] = [" : "return [");
          for (const t of tensors.filter((t) => !isNorm(t))) w.writeLine(`${spec(t)},`);
          w.writeLine("];");
          if (norms.length > 0) {
            w.writeLine("// Layer 0 has no attention LayerNorm: the embeddings' LayerNorm comes right before it.");
            w.writeLine(`if (name !== "layers.0") tensors.push(${norms.map(spec).join(", ")});`);
            w.writeLine("return tensors;");
          }
        },
      });
    }
    this.file.addFunction({
      name: "layerTensors",
      returnType: "Spec[]",
      leadingTrivia:
        m.sharing.length > 0
          ? "\n/** Each layer's tensors, in layer order; a sharing group's once, at its first layer. */\n"
          : "\n/** Each layer's tensors, in layer order. */\n",
      statements: (w) => {
        if (m.sharing.length === 0) {
          w.writeLine(
            "return Array.from({ length: config.layers }, (_, layer) => [...attentionTensors(ownLayer(layer)), ...feedForwardTensors(ownLayer(layer))]).flat();",
          );
          return;
        }
        w.writeLine("const tensors: Spec[] = [];");
        w.writeLine("const listed = new Set<string>();");
        w.write("for (let layer = 0; layer < config.layers; layer++)").block(() => {
          for (const { part } of PARTS) {
            const { tensors, ownerOf } = PART_NAMES[part];
            w.writeLine(`const ${part} = ${ownerOf}(layer);`);
            w.write(`if (!listed.has(\`\${${part}.name}.${part}\`))`).block(() => {
              w.writeLine(`listed.add(\`\${${part}.name}.${part}\`);`);
              w.writeLine(`tensors.push(...${tensors}(${part}));`);
            });
          }
        });
        w.writeLine("return tensors;");
      },
    });
    this.file.addVariableStatement({
      declarationKind: VariableDeclarationKind.Const,
      isExported: true,
      declarations: [
        {
          name: "parameters",
          type: "readonly Spec[]",
          initializer: (w) => {
            w.write("[").newLine();
            for (const p of before) w.writeLine(`${this.specLiteral(p)},`);
            w.writeLine("...layerTensors(),");
            for (const p of after) w.writeLine(`${this.specLiteral(p)},`);
            if (this.has.generator) w.writeLine("...generatorTensors(),");
            w.write("]");
          },
        },
      ],
      leadingTrivia: this.has.generator
        ? `\n/** The parameter table: shape, initialiser, owning sharing group, weight decay, Hugging Face name (${this.table.length} tensors, then the generator's own). */\n`
        : `\n/** The parameter table: shape, initialiser, owning sharing group, weight decay, Hugging Face name (${this.table.length} tensors). */\n`,
    });
  }

  /** ELECTRA: the generator's tensors it shares with this model, and its own, renamed into this model's table. */
  private writeGeneratorTable(): void {
    const shared = parameterTable(generatorModel(this.model))
      .map((p) => p.name)
      .filter(isSharedWithGenerator);
    this.file.addVariableStatement({
      declarationKind: VariableDeclarationKind.Const,
      declarations: [{ name: "SHARED_WITH_GENERATOR", type: "ReadonlySet<string>", initializer: `new Set(${literal(shared)})` }],
      leadingTrivia: "\n/** The generator's tensors that are this model's own: the embedding tables and their LayerNorm. */\n",
    });
    this.file.addFunction({
      name: "generatorName",
      parameters: [{ name: "name", type: "generatorGraph.ParamName" }],
      returnType: "ParamName",
      leadingTrivia: "\n/** A generator tensor's name in this model: a shared one's own, `generator.` before the others. */\n",
      statements: ["return SHARED_WITH_GENERATOR.has(name) ? (name as ParamName) : `generator.${name}`;"],
    });
    this.file.addFunction({
      name: "generatorTensors",
      returnType: "Spec[]",
      leadingTrivia: "\n/** The generator's own tensors (Hugging Face names of ElectraForMaskedLM). */\n",
      statements: [
        "return generatorGraph.parameters.filter((t) => !SHARED_WITH_GENERATOR.has(t.name)).map((t) => ({ ...t, name: generatorName(t.name) }));",
      ],
    });
  }

  /** `attentionOwner(layer)` or `feedForwardOwner(layer)`: its sharing group, else the layer itself. */
  private writeOwnerOf(part: SharedPart, owner: string): void {
    const m = this.model;
    const { what, ownerOf } = PART_NAMES[part];
    const groups = m.sharing.map((g, index) => ({ g, index })).filter(({ g }) => g.share.includes(part));
    this.file.addFunction({
      name: ownerOf,
      parameters: [{ name: "layer", type: "number" }],
      returnType: `Owner<${owner}>`,
      leadingTrivia: `\n/** Who owns layer \`layer\`'s ${what} sublayer. */\n`,
      statements: (w) => {
        groups.forEach(({ g, index }, i) => {
          const value = `{ name: ${literal(`groups.${g.name}`)}, group: ${literal(g.name)}, hf: ${literal(this.hfPrefix.owner(`groups.${g.name}`))} }`;
          const last = i === groups.length - 1 && !this.ownsItself(part);
          w.writeLine(
            `// Sharing group ${literal(g.name)}: ${g.layers.length === m.layers ? "every layer" : `${g.layers.length} layers`}.`,
          );
          w.writeLine(last ? `return ${value};` : `if (config.sharing[${index}]!.layers.includes(layer)) return ${value};`);
        });
        if (this.ownsItself(part)) w.writeLine("return ownLayer(layer);");
      },
    });
  }

  private specLiteral(p: ParamSpec): string {
    const hf = this.hfNames.get(p.name);
    const hfField = hf !== undefined ? `, hf: ${literal(hf)}` : "";
    return `{ name: ${literal(p.name)}, shape: ${literal(p.shape)}, init: ${literal(p.init)}, group: ${literal(p.group)}, decay: ${p.decay}${hfField} }`;
  }

  /** Whether `owner`'s `part` sublayer is the attention of layer 0 without its LayerNorm. */
  private isNormless(owner: string, part: SharedPart): boolean {
    return this.has.firstNormless && part === "attention" && owner === "layers.0";
  }

  /** Whether some layer owns its `part` sublayer itself (no sharing group does). */
  private ownsItself(part: SharedPart): boolean {
    return this.layout.units.some((u) => u.part === part && u.owner.startsWith("layers."));
  }

  private get hasOwnLayers(): boolean {
    return PARTS.some(({ part }) => this.ownsItself(part));
  }

  /**
   * One `part` sublayer's tensors, under any owner: the same in every layer (checked), so
   * emitted code lists them once and names them from the owner.
   */
  private sublayer(part: SharedPart): { local: string; shape: number[]; init: string; decay: boolean; hf: string }[] {
    let first: string | null = null;
    let template: ReturnType<GraphWriter["sublayer"]> = [];
    // Layer 0's attention without its LayerNorm (first_attention_norm false) is the others' less the norm: bound as null there.
    const units = this.layout.units.filter((u) => u.part === part && !(this.isNormless(u.owner, part) && this.model.layers > 1));
    for (const unit of units) {
      const prefix = this.hfPrefix.owner(unit.owner);
      const tensors = unit.tensors.map((t) => {
        const hf = this.hfNames.get(t.name);
        if (hf === undefined || !hf.startsWith(`${prefix}.`))
          throw new Error(`internal error: no Hugging Face name under '${prefix}' for ${t.name}`);
        return {
          local: t.name.slice(unit.owner.length + 1),
          shape: t.shape,
          init: t.init,
          decay: t.decay,
          hf: hf.slice(prefix.length + 1),
        };
      });
      const text = JSON.stringify(tensors);
      if (first === null) [first, template] = [text, tensors];
      else if (text !== first) throw new Error(`internal error: the ${part} tensors of ${unit.owner} differ from other layers'`);
    }
    return template;
  }

  private writeParams(): void {
    const props: { name: string; type: string; docs?: string[] }[] = [{ name: "embeddings", type: "rt.EmbeddingParams" }];
    if (this.has.projection)
      props.push({
        name: "projection",
        type: "rt.DenseParams",
        docs: [`Factorized embeddings: E = ${embeddingWidth(this.model)} → H = ${this.model.hidden}.`],
      });
    props.push({
      name: "layers",
      type: "{ attention: rt.AttentionParams; ffn: rt.FeedForwardParams }[]",
      docs: ["One entry per layer; layers of a sharing group hold the same objects."],
    });
    if (this.has.preNorm)
      props.push({ name: "finalNorm", type: "rt.LayerNormParams", docs: ["Pre-LN: the LayerNorm of the last layer's output."] });
    if (this.has.pooler) props.push({ name: "pooler", type: "rt.DenseParams" });
    if (this.has.mlm) props.push({ name: "mlm", type: "rt.MlmHeadParams" });
    if (this.has.nsp) props.push({ name: "nsp", type: "rt.DenseParams" });
    if (this.has.sop) props.push({ name: "sop", type: "rt.DenseParams" });
    if (this.has.rtd)
      props.push({ name: "rtd", type: "rt.RtdHeadParams", docs: ["Replaced-token detection: dense, activation, one logit."] });
    if (this.has.generator)
      props.push({
        name: "generator",
        type: "generatorGraph.Params",
        docs: ["The generator's, bound to the shared embeddings and its own tensors."],
      });
    if (this.has.cosineProjection)
      props.push({
        name: "cosineProjection",
        type: "rt.DenseParams",
        docs: [`Student H = ${this.model.hidden} → teacher H = ${this.teacher!.hidden}, for the cosine objective.`],
      });
    this.file.addInterface({
      isExported: true,
      name: "Params",
      properties: props.map((p) => ({ name: p.name, type: p.type, docs: p.docs })),
      leadingTrivia: "\n/** Parameters arranged as the forward pass uses them. */\n",
    });
  }

  private writeBindParams(): void {
    const shared = this.model.sharing.length > 0;
    this.file.addFunction({
      isExported: true,
      name: "bindParams",
      parameters: [{ name: "lookup", type: "(name: ParamName) => Tensor | undefined" }],
      returnType: "Params",
      leadingTrivia: "\n/** Arrange tensors by name (variables while training, loaded weights otherwise) as `Params`. */\n",
      statements: (w) => {
        w.writeLine("const { t1, t2 } = rt.tensorGetter<ParamName>(lookup);");
        const name = (n: string) => literal(n);
        const under = (local: string) => `\`\${owner}.${templateText(local)}\``;
        // A part without bias (attention_bias, mlp_bias, norm_bias false) has no bias tensor to bind.
        const denseOf = (prefix: string, key = name, bias = true) =>
          bias
            ? `{ kernel: t2(${key(prefix + ".kernel")}), bias: t1(${key(prefix + ".bias")}) }`
            : `{ kernel: t2(${key(prefix + ".kernel")}) }`;
        const normOf = (prefix: string, key = name) =>
          this.has.normBias
            ? `{ weight: t1(${key(prefix + ".weight")}), bias: t1(${key(prefix + ".bias")}) }`
            : `{ weight: t1(${key(prefix + ".weight")}) }`;
        if (shared) w.writeLine("// Each owner's tensors are bound once, so the layers of a sharing group hold the same objects.");
        const [open, close] = shared ? ["rt.bindOnce(", ")"] : ["", ""];
        w.writeLine(`const attention = ${open}(owner: AttentionOwner): rt.AttentionParams => ({`);
        for (const d of ["query", "key", "value", "output"])
          w.writeLine(`  ${d}: ${denseOf(`attention.${d}`, under, this.has.attentionBias)},`);
        if (this.has.firstNormless) w.writeLine(`  norm: owner === "layers.0" ? null : ${normOf("attention.norm", under)},`);
        else w.writeLine(`  norm: ${normOf("attention.norm", under)},`);
        w.writeLine(`})${close};`);
        w.writeLine(`const feedForward = ${open}(owner: FeedForwardOwner): rt.FeedForwardParams => ({`);
        w.writeLine(`  intermediate: ${denseOf("ffn.intermediate", under, this.has.mlpBias)},`);
        w.writeLine(`  output: ${denseOf("ffn.output", under, this.has.mlpBias)},`);
        w.writeLine(`  norm: ${normOf("ffn.norm", under)},`);
        w.writeLine(`})${close};`);
        w.writeLine("return {");
        w.writeLine("  embeddings: {");
        w.writeLine(`    word: t2("embeddings.word"),`);
        w.writeLine(`    position: ${this.has.rotary ? "null" : `t2("embeddings.position")`},`);
        w.writeLine(`    segment: ${this.has.segments ? `t2("embeddings.segment")` : "null"},`);
        w.writeLine(`    norm: ${normOf("embeddings.norm")},`);
        w.writeLine("  },");
        if (this.has.projection) w.writeLine(`  projection: ${denseOf("embeddings.projection")},`);
        const [a, f] = shared ? ["attentionOwner(layer).name", "feedForwardOwner(layer).name"] : ["`layers.${layer}`", "`layers.${layer}`"];
        w.writeLine(
          `  layers: Array.from({ length: config.layers }, (_, layer) => ({ attention: attention(${a}), ffn: feedForward(${f}) })),`,
        );
        if (this.has.preNorm) w.writeLine(`  finalNorm: ${normOf("encoder.final_norm")},`);
        if (this.has.pooler) w.writeLine(`  pooler: ${denseOf("pooler")},`);
        if (this.has.mlm)
          w.writeLine(
            `  mlm: { transform: ${denseOf("heads.mlm.transform", name, hasBias(this.model, "classifier"))}, norm: ${normOf("heads.mlm.norm")}${hasBias(this.model, "decoder") ? `, bias: t1("heads.mlm.bias")` : ""} },`,
          );
        if (this.has.nsp) w.writeLine(`  nsp: ${denseOf("heads.nsp")},`);
        if (this.has.sop) w.writeLine(`  sop: ${denseOf("heads.sop")},`);
        if (this.has.rtd) w.writeLine(`  rtd: { transform: ${denseOf("heads.rtd.transform")}, output: ${denseOf("heads.rtd.output")} },`);
        if (this.has.generator) w.writeLine("  generator: generatorGraph.bindParams((name) => lookup(generatorName(name))),");
        if (this.has.cosineProjection) w.writeLine(`  cosineProjection: ${denseOf("heads.cosine.projection")},`);
        w.writeLine("};");
      },
    });
  }

  private writeOptions(): void {
    const m = this.model;
    const positionPad = m.embeddings.offset > 0 ? m.embeddings.offset - 1 : null;
    // The layers' options name the norm position only when it is not the runtime's default, post.
    const pre = this.has.preNorm ? `, normPosition: "pre"` : "";
    // Likewise the feed-forward kind, only when gated: a plain model's options are what they were.
    const gated = this.has.gated ? `, kind: "gated"` : "";
    const consts: [string, string, string, string][] = [
      ["POSITIONS", "rt.PositionOptions", `{ offset: ${m.embeddings.offset}, padId: ${m.special["pad"] ?? 0} }`, ""],
      [
        "EMBEDDINGS",
        "rt.EmbeddingOptions",
        `{ normEps: ${m.norm_eps}, dropout: ${m.dropout}, padId: ${m.special["pad"] ?? 0}, positionPadId: ${positionPad} }`,
        positionPad === null ? "" : `// Position ids start at ${m.embeddings.offset}; row ${positionPad} is the padding position.`,
      ],
      [
        "ATTENTION",
        "rt.AttentionOptions",
        `{ heads: ${m.heads}, normEps: ${m.norm_eps}, dropout: ${m.dropout}, attentionDropout: ${m.attention_dropout}${pre} }`,
        "",
      ],
      [
        "FEED_FORWARD",
        "rt.FeedForwardOptions",
        `{ activation: ${literal(m.activation)}, normEps: ${m.norm_eps}, dropout: ${m.dropout}${pre}${gated} }`,
        this.has.gated
          ? `// Gated: the intermediate kernel's first ${m.intermediate} columns are the input, the next ${m.intermediate} the gate.`
          : "",
      ],
    ];
    if (this.has.mlm)
      consts.push(["MLM_HEAD", "rt.MlmHeadOptions", `{ activation: ${literal(m.activation)}, normEps: ${m.norm_eps} }`, ""]);
    if (this.has.distill) {
      consts.push(["DISTILL", "rt.DistillOptions", `{ temperature: ${objective(m, "distill")!.temperature} }`, ""]);
    }
    for (const [name, type, init, comment] of consts) {
      this.file.addVariableStatement({
        declarationKind: VariableDeclarationKind.Const,
        declarations: [{ name, type, initializer: init }],
        leadingTrivia: comment ? `\n${comment}\n` : "\n",
      });
    }
  }

  private writeInputsAndEncode(): void {
    const m = this.model;
    const inputs = [
      { name: "inputIds", type: "Tensor2D", docs: ["[B, S] token ids (int32)."] },
      { name: "attentionMask", type: "Tensor2D", docs: ["[B, S] 1 for tokens, 0 for padding."] },
    ];
    if (this.has.segments)
      inputs.push({
        name: "tokenTypeIds",
        type: "Tensor2D",
        hasQuestionToken: true,
        docs: ["[B, S] segment ids; zeros when absent."],
      } as never);
    inputs.push({
      name: "documentIds",
      type: "Tensor2D",
      hasQuestionToken: true,
      docs: ["[B, S] packed documents: each token's document index; attention and positions stay within a document."],
    } as never);
    this.file.addInterface({ isExported: true, name: "Inputs", properties: inputs, leadingTrivia: "\n" });
    const outputs = [
      { name: "lastHiddenState", type: "Tensor3D", docs: [`[B, S, ${m.hidden}]`] },
      {
        name: "hiddenStates",
        type: "Tensor3D[]",
        docs: [`The embedding output fed to layer 0, then each of the ${m.layers} layers' outputs.`],
      },
    ];
    if (this.has.pooler) outputs.push({ name: "poolerOutput", type: "Tensor2D", docs: [`[B, ${m.hidden}] tanh(dense(h[:, 0]))`] });
    this.file.addInterface({ isExported: true, name: "EncoderOutputs", properties: outputs, leadingTrivia: "\n" });

    this.file.addFunction({
      isExported: true,
      name: "encode",
      parameters: [
        { name: "p", type: "Params" },
        { name: "x", type: "Inputs" },
        { name: "random", type: "Randomness" },
      ],
      returnType: "EncoderOutputs",
      leadingTrivia: this.has.preNorm
        ? "\n/** The encoder: embeddings, then the pre-LN layers (attention, then feed-forward, each x + f(LayerNorm(x))), then a final LayerNorm. */\n"
        : "\n/** The encoder: embeddings, then the post-LN layers (attention, then feed-forward, each with residual + LayerNorm). */\n",
      statements: (w) => {
        const types = this.has.segments ? "x.tokenTypeIds ?? null" : "null";
        if (this.has.rotary) w.writeLine("const positions = null; // rotary: attention rotates queries and keys by position instead");
        else w.writeLine("const positions = rt.positionIds(x.inputIds, POSITIONS, x.documentIds);");
        if (this.has.projection) {
          w.writeLine(`// [B, S] → [B, S, ${embeddingWidth(m)}] → [B, S, ${m.hidden}]`);
          w.writeLine(`const embedded = rt.embeddings(p.embeddings, x.inputIds, ${types}, positions, EMBEDDINGS, random);`);
          w.writeLine("let h = rt.projectEmbeddings(embedded, p.projection);");
        } else {
          w.writeLine(`// [B, S] → [B, S, ${m.hidden}]`);
          w.writeLine(`let h = rt.embeddings(p.embeddings, x.inputIds, ${types}, positions, EMBEDDINGS, random);`);
        }
        w.writeLine("const hiddenStates = [h];");
        w.writeLine(
          "const bias = rt.attentionBias(x.attentionMask, x.documentIds); // [B, 1, 1, S], or [B, 1, S, S] with packed documents",
        );
        const a = attentionConfig(m);
        if (this.has.local)
          w.writeLine(
            `const localBias = rt.localAttentionBias(bias, ${a.window}); // [B, 1, S, S]: keys within ${Math.floor(a.window! / 2)} positions either side`,
          );
        const localBase = a.local_rotary ?? a.rotary;
        const twoBases = this.has.rotary && this.has.local && localBase !== a.rotary;
        if (this.has.rotary) {
          w.writeLine(`const seq = x.inputIds.shape[1];`);
          w.writeLine(`const rotary = rt.rotaryTables(seq, ${m.hidden / m.heads}, ${a.rotary}); // RoPE, base ${a.rotary}`);
          if (twoBases) w.writeLine(`const localRotary = rt.rotaryTables(seq, ${m.hidden / m.heads}, ${localBase}); // local layers' base`);
        }
        const rotaryArg = !this.has.rotary ? "" : twoBases ? ", local ? localRotary : rotary" : ", rotary";
        const loop = this.has.local ? "for (const [i, layer] of p.layers.entries())" : "for (const layer of p.layers)";
        w.write(loop).block(() => {
          if (this.has.local) {
            w.writeLine(`// Layers 0, ${a.global_every}, ${2 * a.global_every}, … attend to every key; the others within the window.`);
            w.writeLine(`const local = i % ${a.global_every} !== 0;`);
            w.writeLine(`h = rt.selfAttention(h, local ? localBias : bias, layer.attention, ATTENTION, random${rotaryArg});`);
          } else {
            w.writeLine(`h = rt.selfAttention(h, bias, layer.attention, ATTENTION, random${rotaryArg});`);
          }
          w.writeLine("h = rt.feedForward(h, layer.ffn, FEED_FORWARD, random);");
          w.writeLine("hiddenStates.push(h);");
        });
        if (this.has.preNorm) {
          w.writeLine(
            "// Pre-LN layers leave their sum unnormalised. As in Hugging Face's pre-LN encoders, the last hidden state is the normalised one.",
          );
          w.writeLine(`h = rt.layerNorm(h, p.finalNorm, ${m.norm_eps});`);
          w.writeLine("hiddenStates[hiddenStates.length - 1] = h;");
        }
        if (this.has.pooler) w.writeLine("return { lastHiddenState: h, hiddenStates, poolerOutput: rt.pooler(h, p.pooler) };");
        else w.writeLine("return { lastHiddenState: h, hiddenStates };");
      },
    });
  }

  private writeHeads(): void {
    const m = this.model;
    if (this.has.mlm) {
      this.file.addFunction({
        isExported: true,
        name: "mlmLogits",
        parameters: [
          { name: "p", type: "Params" },
          { name: "h", type: "Tensor2D" },
        ],
        returnType: "Tensor2D",
        leadingTrivia: `\n/** [N, ${m.hidden}] → [N, ${m.vocab}]. The decoder is the word-embedding table itself (weight tying), plus its own bias. */\n`,
        statements: ["return rt.mlmLogits(h, p.mlm, p.embeddings.word, MLM_HEAD);"],
      });
    }
    if (this.has.rtd) {
      this.file.addFunction({
        isExported: true,
        name: "rtdLogits",
        parameters: [
          { name: "p", type: "Params" },
          { name: "h", type: "Tensor3D" },
        ],
        returnType: "Tensor2D",
        leadingTrivia: `\n/** [B, S, ${m.hidden}] → [B, S]: for each token, the logit that it was replaced. */\n`,
        statements: [`return rt.rtdLogits(h, p.rtd, ${literal(m.activation)});`],
      });
    }
    for (const name of SENTENCE_PAIR_OBJECTIVES) {
      if (!this.has[name]) continue;
      const what = name === "nsp" ? "is segment B the segment that followed A" : "are the two segments in their original order";
      this.file.addFunction({
        isExported: true,
        name: `${name}Logits`,
        parameters: [
          { name: "p", type: "Params" },
          { name: "pooled", type: "Tensor2D" },
        ],
        returnType: "Tensor2D",
        leadingTrivia: `\n/** [B, ${m.hidden}] → [B, 2]: ${what}? */\n`,
        statements: [`return rt.dense(pooled, p.${name});`],
      });
    }
  }

  private writeLoss(): void {
    const m = this.model;
    const labels: { name: string; type: string; docs: string[] }[] = [];
    if (this.has.mlm || this.has.generator)
      labels.push({ name: "labels", type: "Tensor2D", docs: ["[B, S] the original token at predicted positions, -100 elsewhere."] });
    if (this.has.generator)
      labels.push({
        name: "generatorSamples",
        type: "Tensor2D",
        hasQuestionToken: true,
        docs: ["[B, S] the generator's samples to use at the predicted positions (-1 elsewhere) instead of drawing them."],
      } as never);
    if (this.has.nsp) labels.push({ name: "nextSentenceLabel", type: "Tensor1D", docs: ["[B] 0 = B follows A, 1 = B is random."] });
    if (this.has.sop) labels.push({ name: "sentenceOrderLabel", type: "Tensor1D", docs: ["[B] 0 = in order, 1 = swapped."] });
    this.file.addInterface({ isExported: true, name: "Labels", properties: labels, leadingTrivia: "\n" });

    // Without a teacher there is nothing for distill and cosine to compare with (the checker reports it).
    const terms = m.objectives.filter((o) => this.teacher !== null || !isTeacherObjective(o.name));
    // A type, not an interface: one is a `Record<string, Scalar>`, as code driving any model reads the terms.
    this.file.addTypeAlias({
      isExported: true,
      name: "LossTerms",
      type: `{ ${terms.map((o) => `${o.name}: Scalar;`).join(" ")} }`,
      leadingTrivia: "\n/** Each objective's unweighted term. */\n",
    });
    const needsTeacher = this.has.distill || this.has.cosine;
    if (needsTeacher) this.writeTeacher();
    const formula = terms.map((o) => `${o.weight} × ${o.name}`).join(" + ");
    // What `loss` and `trainStep` both take about a batch.
    const batch = [
      { name: "x", type: "Inputs" },
      { name: "y", type: "Labels" },
      { name: "random", type: "Randomness" },
      ...(needsTeacher ? [{ name: "teacher", type: "TeacherOutputs" }] : []),
    ];
    this.file.addFunction({
      isExported: true,
      name: "loss",
      parameters: [{ name: "p", type: "Params" }, ...batch],
      returnType: "{ loss: Scalar; terms: LossTerms; outputs: EncoderOutputs }",
      leadingTrivia: `\n/** The pretraining loss: ${formula || "no objectives"}. */\n`,
      statements: (w) =>
        this.writeLossBody(
          w,
          terms.map((o) => o.name),
        ),
    });
    const batchArgs = `x, y, random${needsTeacher ? ", teacher" : ""}`;
    this.file.addFunction({
      isExported: true,
      name: "gradients",
      parameters: [{ name: "variables", type: 'rt.TrainState["variables"]' }, ...batch],
      returnType: "rt.Gradients",
      leadingTrivia:
        "\n/** Gradients of the loss on a batch with respect to every variable it uses, by parameter name (the caller disposes them). */\n",
      statements: [`return rt.computeGradients(variables, (lookup) => loss(bindParams(lookup), ${batchArgs}));`],
    });
    this.file.addFunction({
      isExported: true,
      name: "trainStep",
      parameters: [{ name: "state", type: "rt.TrainState" }, { name: "lr", type: "number" }, ...batch],
      returnType: "rt.StepResult",
      leadingTrivia: "\n/** One optimisation step on a batch: its gradients, clipping, and the optimizer's update. */\n",
      statements: [`return rt.applyGradients(state, gradients(state.variables, ${batchArgs}), lr);`],
    });
  }

  private writeTeacher(): void {
    const t = this.teacher!;
    this.file.addInterface({
      isExported: true,
      name: "TeacherOutputs",
      properties: [
        ...(this.has.distill
          ? [{ name: "logits", type: "Tensor2D", docs: [`[N, ${t.vocab}] MLM logits at the real (non-padding) positions.`] }]
          : []),
        ...(this.has.cosine
          ? [{ name: "hidden", type: "Tensor2D", docs: [`[N, ${t.hidden}] last hidden states at the real positions.`] }]
          : []),
      ],
      leadingTrivia: `\n/** What the frozen teacher ${literal(t.name)} says about a batch. */\n`,
    });
    this.file.addFunction({
      isExported: true,
      name: "teacherOutputs",
      parameters: [
        { name: "tp", type: "teacherGraph.Params" },
        { name: "x", type: "Inputs" },
      ],
      returnType: "TeacherOutputs",
      leadingTrivia: "\n/** Run the teacher in evaluation mode (no dropout), without segment ids, as DistilBERT's distiller does. */\n",
      statements: (w) => {
        w.writeLine("const out = teacherGraph.encode(tp, { inputIds: x.inputIds, attentionMask: x.attentionMask }, rt.EVAL);");
        w.writeLine("const real = rt.tf.reshape(x.attentionMask, [-1]) as Tensor1D;");
        w.writeLine("const hidden = rt.selectRows(rt.flattenPositions(out.lastHiddenState), real);");
        const fields = [this.has.distill ? "logits: teacherGraph.mlmLogits(tp, hidden)" : "", this.has.cosine ? "hidden" : ""].filter(
          Boolean,
        );
        w.writeLine(`return { ${fields.join(", ")} };`);
      },
    });
  }

  /** ELECTRA: the generator's MLM on the masked input, its samples in place of the masks, the discriminator's rtd on the result. */
  private writeGeneratorLoss(w: CodeBlockWriter): void {
    w.writeLine("// The generator reads the masked tokens and predicts the originals at the labelled positions: [N, H] → [N, V].");
    w.writeLine("const generated = generatorGraph.encode(p.generator, x, random);");
    w.writeLine("const flatLabels = rt.tf.reshape(y.labels, [-1]) as Tensor1D;");
    w.writeLine("const predicted = rt.tf.notEqual(flatLabels, rt.IGNORE) as Tensor1D;");
    w.writeLine("const selected = rt.selectRows(rt.flattenPositions(generated.lastHiddenState), predicted);");
    w.writeLine("const generatorLogits = generatorGraph.mlmLogits(p.generator, selected);");
    w.writeLine("const mlm = rt.crossEntropy(generatorLogits, rt.selectRows(flatLabels, predicted));");
    w.writeLine("// Each labelled position takes a sample from the generator's softmax (data: no gradient flows through it).");
    w.writeLine("const samples = y.generatorSamples");
    w.writeLine("  ? rt.givenSamples(y.generatorSamples, y.labels)");
    w.writeLine("  : rt.sampleTokens(generatorLogits, random);");
    w.writeLine("const corrupted = rt.replaceTokens(x.inputIds, y.labels, samples);");
    w.writeLine("// The discriminator tells, for every real token, whether it is a replacement.");
    w.writeLine("const outputs = encode(p, { ...x, inputIds: corrupted.inputIds }, random);");
    w.writeLine("const rtd = rt.replacedTokenLoss(rtdLogits(p, outputs.lastHiddenState), corrupted.replaced, x.attentionMask);");
  }

  private writeLossBody(w: CodeBlockWriter, terms: string[]): void {
    const weights = new Map(this.model.objectives.map((o) => [o.name, o]));
    if (this.has.generator) this.writeGeneratorLoss(w);
    else w.writeLine("const outputs = encode(p, x, random);");
    if (this.has.distill || this.has.cosine) {
      w.writeLine("// Distillation looks at every real (non-padding) position; MLM at the labelled ones among them.");
      w.writeLine("const real = rt.tf.reshape(x.attentionMask, [-1]) as Tensor1D;");
      w.writeLine("const hidden = rt.selectRows(rt.flattenPositions(outputs.lastHiddenState), real); // [N, H]");
    }
    if (this.has.mlm) {
      if (this.has.distill) {
        w.writeLine("const logits = mlmLogits(p, hidden); // [N, V]");
        w.writeLine("const labels = rt.selectRows(rt.tf.reshape(y.labels, [-1]) as Tensor1D, real);");
        w.writeLine("const mlm = rt.crossEntropy(logits, labels);");
      } else {
        w.writeLine("// MLM logits only at the labelled positions: [N, H] → [N, V].");
        w.writeLine("const flatLabels = rt.tf.reshape(y.labels, [-1]) as Tensor1D;");
        w.writeLine("const predicted = rt.tf.notEqual(flatLabels, rt.IGNORE) as Tensor1D;");
        w.writeLine("const selected = rt.selectRows(rt.flattenPositions(outputs.lastHiddenState), predicted);");
        w.writeLine("const mlm = rt.crossEntropy(mlmLogits(p, selected), rt.selectRows(flatLabels, predicted));");
      }
    }
    if (this.has.nsp) w.writeLine("const nsp = rt.crossEntropy(nspLogits(p, outputs.poolerOutput), y.nextSentenceLabel);");
    if (this.has.sop) w.writeLine("const sop = rt.crossEntropy(sopLogits(p, outputs.poolerOutput), y.sentenceOrderLabel);");
    if (this.has.distill) {
      const logits = this.has.mlm ? "logits" : "mlmLogits(p, hidden)";
      w.writeLine(`const distill = rt.distillLoss(${logits}, teacher.logits, DISTILL);`);
    }
    if (this.has.cosine) {
      const student = this.has.cosineProjection ? "rt.dense(hidden, p.cosineProjection)" : "hidden";
      w.writeLine(`const cosine = rt.cosineLoss(${student}, teacher.hidden);`);
    }
    // A weight of 1 is the term itself: multiplying by 1 changes neither the value nor the gradient.
    const sum = terms.map((n) => (weights.get(n as never)!.weight === 1 ? n : `rt.tf.mul(${n}, ${weights.get(n as never)!.weight})`));
    const total = sum.length === 0 ? "rt.tf.scalar(0)" : sum.length === 1 ? sum[0]! : `rt.tf.addN([${sum.join(", ")}])`;
    w.writeLine(`const loss = ${total === terms[0] ? total : `${total} as Scalar`};`);
    w.writeLine(`return { loss, terms: { ${terms.join(", ")} }, outputs };`);
  }
}
