/**
 * `bdlc export-hf CKPT --out DIR`: a checkpoint of this project as a Hugging Face folder,
 * `config.json` + `model.safetensors`, that transformers loads into the family's class with
 * no missing or unexpected keys. Refuses a model whose layout no transformers class has.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { loadValidCheckpoint } from "../../app/checkpoint.js";
import { writeFileDurably, writeFolderAtomically } from "../../runtime/checkpoint/checkpoint.js";
import { hfNaming, type HfFamily } from "../../model/hf/names.js";
import { weightsToHf } from "../../runtime/checkpoint/hf-weights.js";
import { writeSafetensors } from "../../runtime/checkpoint/safetensors.js";
import { objective, type ResolvedModel } from "../../model/model.js";
import { parseFlags, requirePositionals, UsageError, type Command } from "./command.js";
import { userErrors } from "./import-hf.js";

const help = `Usage: bdlc export-hf CKPT --out DIR

Write a checkpoint (a checkpoint folder, or a train --out run folder meaning its latest
checkpoint) as a Hugging Face folder: config.json + model.safetensors, loadable by
transformers (BertForPreTraining / BertForMaskedLM / BertModel, RobertaForMaskedLM,
AlbertForPreTraining / AlbertForMaskedLM / AlbertModel, DistilBertForMaskedLM /
DistilBertModel) with no missing or unexpected keys. Refuses a layout no transformers
class has (say, a sharing group that shares only attention).

Options:
  --out DIR  the folder to write (written atomically; an existing folder is replaced only
             when it holds nothing but config.json and model.safetensors)`;

const TRANSFORMERS_VERSION = "4.38.2";

/** The transformers class for the model's pooler and heads, or why there is none. */
export function hfArchitecture(model: ResolvedModel, family: HfFamily): { name: string; base: boolean } | string {
  const mlm = Boolean(objective(model, "mlm"));
  const nsp = Boolean(objective(model, "nsp"));
  const sop = Boolean(objective(model, "sop"));
  const tanh = model.pooler === "tanh";
  switch (family) {
    case "bert":
      if (sop) return "BERT classes have no sentence-order (sop) head";
      if (mlm && nsp && tanh) return { name: "BertForPreTraining", base: false };
      if (mlm && !nsp && !tanh) return { name: "BertForMaskedLM", base: false };
      if (!mlm && !nsp && tanh) return { name: "BertModel", base: true };
      if (mlm && !nsp) return "BertForMaskedLM has no pooler and BertForPreTraining needs an nsp head: declare `pooler none` or add nsp";
      if (!mlm && nsp) return "BertForPreTraining needs an mlm head besides nsp";
      return "BertModel always has a pooler: declare `pooler tanh`";
    case "roberta":
      if (mlm) return { name: "RobertaForMaskedLM", base: false };
      return "RobertaModel always has a pooler, which a RoBERTa-style model (positions with an offset) cannot declare; add mlm";
    case "albert":
      if (nsp) return "ALBERT classes have no nsp head";
      if (mlm && sop && tanh) return { name: "AlbertForPreTraining", base: false };
      if (mlm && !sop && !tanh) return { name: "AlbertForMaskedLM", base: false };
      if (!mlm && !sop && tanh) return { name: "AlbertModel", base: true };
      if (mlm && !sop) return "AlbertForMaskedLM has no pooler and AlbertForPreTraining needs a sop head: declare `pooler none` or add sop";
      if (!mlm && sop) return "AlbertForPreTraining needs an mlm head besides sop";
      return "AlbertModel always has a pooler: declare `pooler tanh`";
    case "distilbert":
      if (nsp || sop) return "DistilBERT classes have no sentence-pair head";
      return mlm ? { name: "DistilBertForMaskedLM", base: false } : { name: "DistilBertModel", base: true };
  }
}

/** Why the model's settings (beyond its tensors) do not fit the family's config, if they do not. */
function configProblem(model: ResolvedModel, family: HfFamily): string | null {
  const pad = model.special["pad"];
  if (pad === undefined) return "the model declares no pad id (config.json needs pad_token_id)";
  if (family === "roberta" && model.embeddings.offset !== pad + 1) {
    return `RoBERTa's position ids start at pad_token_id + 1 = ${pad + 1}, but the model's embeddings offset is ${model.embeddings.offset}`;
  }
  if (family === "albert" && model.embeddings.factorize === null) {
    return "ALBERT always projects its embeddings (embedding_hidden_mapping_in), but the model has no `factorize`";
  }
  if (family === "distilbert" && model.norm_eps !== 1e-12) {
    return `DistilBERT's LayerNorm eps is fixed at 1e-12, but the model has norm_eps ${model.norm_eps}`;
  }
  return null;
}

/** The config.json transformers needs for the model's family and class (keys sorted, as transformers writes them). */
export function hfConfig(model: ResolvedModel, family: HfFamily, architecture: string): Record<string, unknown> {
  const s = model.special;
  const pad = s["pad"]!;
  const positions = model.embeddings.positions + model.embeddings.offset;
  let config: Record<string, unknown>;
  if (family === "distilbert") {
    config = {
      activation: model.activation,
      attention_dropout: model.attention_dropout,
      dim: model.hidden,
      dropout: model.dropout,
      hidden_dim: model.intermediate,
      max_position_embeddings: positions,
      n_heads: model.heads,
      n_layers: model.layers,
      pad_token_id: pad,
      qa_dropout: model.dropout,
      seq_classif_dropout: model.dropout,
      sinusoidal_pos_embds: false,
    };
  } else {
    config = {
      attention_probs_dropout_prob: model.attention_dropout,
      hidden_act: model.activation,
      hidden_dropout_prob: model.dropout,
      hidden_size: model.hidden,
      intermediate_size: model.intermediate,
      layer_norm_eps: model.norm_eps,
      max_position_embeddings: positions,
      num_attention_heads: model.heads,
      num_hidden_layers: model.layers,
      pad_token_id: pad,
      position_embedding_type: "absolute",
      type_vocab_size: model.embeddings.segments,
    };
    if (family === "albert") {
      const owners = new Set(Array.from({ length: model.layers }, (_, l) => model.sharing.find((g) => g.layers.includes(l))?.name ?? `layer ${l}`));
      Object.assign(config, {
        bos_token_id: s["bos"] ?? s["cls"],
        classifier_dropout_prob: model.dropout,
        embedding_size: model.embeddings.factorize ?? model.hidden,
        eos_token_id: s["eos"] ?? s["sep"],
        inner_group_num: 1,
        num_hidden_groups: owners.size,
      });
    } else {
      Object.assign(config, { classifier_dropout: null, use_cache: true });
      if (family === "roberta") Object.assign(config, { bos_token_id: s["bos"] ?? s["cls"], eos_token_id: s["eos"] ?? s["sep"] });
    }
  }
  Object.assign(config, {
    architectures: [architecture],
    initializer_range: 0.02,
    model_type: family,
    torch_dtype: "float32",
    transformers_version: TRANSFORMERS_VERSION,
    vocab_size: model.vocab,
  });
  return Object.fromEntries(Object.keys(config).sort().map((k) => [k, config[k]]));
}

const OUR_FILES = new Set(["config.json", "model.safetensors"]);

export const exportHf: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { out: { type: "string" } }, help);
    requirePositionals(positionals, 1, 1, "CKPT", help);
    if (values.out === undefined) throw new UsageError(`missing --out DIR.\n\n${help}`);
    const out = values.out;
    const ckpt = userErrors(() => loadValidCheckpoint(positionals[0]!));
    const model = ckpt.model;
    const naming = hfNaming(model);
    const refuse = (why: string): never => {
      throw new UsageError(`cannot export model '${model.name}' as a Hugging Face ${naming.family} checkpoint: ${why}`);
    };
    if (naming.unrepresentable) refuse(naming.unrepresentable);
    const arch = hfArchitecture(model, naming.family);
    if (typeof arch === "string") refuse(arch);
    const { name: architecture, base } = arch as { name: string; base: boolean };
    const problem = configProblem(model, naming.family);
    if (problem) refuse(problem);

    const config = hfConfig(model, naming.family, architecture);
    const prefix = `${naming.family}.`;
    // Base-model classes (BertModel, …) store their tensors without the family prefix.
    const entries = userErrors(() => weightsToHf(ckpt.weights, model)).entries.map((e) =>
      base && e.name.startsWith(prefix) ? { ...e, name: e.name.slice(prefix.length) } : e,
    );
    userErrors(() =>
      writeFolderAtomically(
        out,
        (tmp) => {
          writeSafetensors(path.join(tmp, "model.safetensors"), entries, { format: "pt" });
          writeFileDurably(path.join(tmp, "config.json"), JSON.stringify(config, null, 2) + "\n");
        },
        (existing) => {
          const others = fs.readdirSync(existing).filter((f) => !OUR_FILES.has(f));
          return others.length === 0 ? null : `it holds files other than config.json and model.safetensors (${others.slice(0, 3).join(", ")}${others.length > 3 ? ", …" : ""})`;
        },
      ),
    );
    io.out(`wrote ${out}: ${architecture} (config.json, model.safetensors with ${entries.length} tensors) from ${ckpt.dir}`);
    return 0;
  },
};
