/**
 * `bdlc run MODEL --weights W --inputs IN.json [--teacher-weights T] [--out OUT.json]`: one
 * forward pass on explicit inputs (and, with labels, the loss and one backward pass), for
 * debugging and for checking against other implementations. The files are described in
 * spec/cli.md ("`bdlc run` files").
 */
import { ENGINES, runModel, type Engine } from "../../app/run.js";
import { loadModelRef, parseFlags, requirePositionals, UsageError, writeAtomically, type Command } from "./command.js";

const help = `Usage: bdlc run MODEL --weights W --inputs IN.json [--teacher-weights T | --generator-weights G] [--out OUT.json] [--backend B] [--engine tfjs|torch]

One forward pass on explicit inputs and, where labels are given, the loss and one backward
pass. MODEL is FILE.bdl[:NAME] (NAME may be left out when the file declares one model).

IN.json uses Hugging Face's argument names: input_ids, attention_mask, token_type_ids,
labels (-100 = not predicted), next_sentence_label or sentence_order_label,
teacher_input_ids where the teacher's ids differ, document_ids for packed documents (-1 for
padding), and, for a model with a generator, generator_samples (the token to put at each
labelled position, -1 elsewhere) to replay instead of sampling. OUT.json holds
last_hidden_state, hidden_states, pooler_output, mlm_logits, nsp_logits or sop_logits as
they apply; with labels also loss, loss_terms and grad_norms (keyed by Hugging Face parameter
names). A model with a generator gives generator_logits, generator_hidden_states,
discriminator_logits, discriminator_hidden_states, discriminator_last_hidden_state and, with
labels, generator_grad_norms and discriminator_grad_norms (each under its model's names; the
shared embeddings in both).

Options:
  --weights W          a checkpoint of this project (or a train --out run folder), or a
                       Hugging Face folder (config.json + model.safetensors); for a
                       model with a generator, a folder holding generator/ and
                       discriminator/ Hugging Face folders (as export-hf writes them)
  --inputs IN.json     the inputs
  --teacher-weights T  the teacher's weights (same kinds as W), for distillation losses
  --generator-weights G  for a model with a generator: the generator's Hugging Face folder
                       (ElectraForMaskedLM), W then the discriminator's (ElectraForPreTraining)
  --out OUT.json       write the outputs there (atomically) instead of to stdout
  --backend B          cpu (default: the reference, pure JavaScript), native, wasm,
                       webgpu, tensorflow or auto — to compare a backend with it
  --engine E           tfjs (default) or torch: the model's PyTorch module (bdlc compile
                       --target torch), run by PyTorch, to compare the engines; its module
                       reads document_ids only for a model that keeps packed documents
                       apart (train { document_mask true })`;

export const run: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        weights: { type: "string" },
        inputs: { type: "string" },
        "teacher-weights": { type: "string" },
        "generator-weights": { type: "string" },
        out: { type: "string" },
        backend: { type: "string" },
        engine: { type: "string" },
      },
      help,
    );
    requirePositionals(positionals, 1, 1, "MODEL", help);
    if (values.weights === undefined) throw new UsageError(`missing --weights W.\n\n${help}`);
    if (values.inputs === undefined) throw new UsageError(`missing --inputs IN.json.\n\n${help}`);
    const engine = values.engine ?? "tfjs";
    if (!(ENGINES as readonly string[]).includes(engine))
      throw new UsageError(`--engine must be one of ${ENGINES.join(", ")}, not '${engine}'.\n\n${help}`);
    if (engine === "torch" && values.backend !== undefined)
      throw new UsageError("--backend is the tfjs engine's; the torch engine runs on PyTorch's CPU");
    const chosen = loadModelRef(positionals[0]!, io);
    if (!chosen) return 1;
    const result = await runModel({
      model: chosen.model,
      teacher: chosen.teacher,
      weights: values.weights,
      teacherWeights: values["teacher-weights"],
      generatorWeights: values["generator-weights"],
      inputs: values.inputs,
      backend: values.backend ?? "cpu",
      engine: engine as Engine,
    });
    const text = JSON.stringify(result) + "\n";
    if (values.out !== undefined) {
      writeAtomically(values.out, text);
      io.out(`wrote ${values.out}${typeof result["loss"] === "number" ? ` (loss ${result["loss"]})` : ""}`);
    } else {
      io.out(text);
    }
    return 0;
  },
};
