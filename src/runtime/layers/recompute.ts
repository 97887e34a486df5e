/**
 * Where an encoder sublayer's intermediate tensors live, and activation recomputation
 * (Hugging Face's `gradient_checkpointing`).
 *
 * A training forward pass records every op on tfjs's tape, and each op keeps what its
 * gradient reads until the backward pass reaches it: for BERT-large at 2 × 512 tokens about
 * 450 MB per layer, 11 GB for 24 layers, beside a wasm heap that holds 4 GiB in all. With
 * recomputation each sublayer (attention, feed-forward) is one op on the tape that keeps
 * only its input; its backward pass runs the sublayer's forward again, on that input with
 * the same dropout masks, and differentiates it there. The recomputed forward uses the same
 * kernels on the same values, so the gradients are the same bit for bit; the cost is one
 * more forward pass per step (about a third more compute).
 *
 * Outside training (no tape: a teacher's forward pass, evaluation, `bdlc run`) a sublayer's
 * intermediates are freed as soon as it returns, so a forward pass holds one sublayer's
 * temporaries at a time rather than those of every layer.
 */
import { tf, type Tensor, type Tensor3D } from "../backends/tf.js";
import type { Randomness } from "./dropout.js";

let recomputing = false;

/**
 * Runs `f` (a training step) with every sublayer recomputed in the backward pass when `on`.
 * A setting of the step rather than of the graph: it changes how much memory a step takes,
 * never what it computes, so the compiled graph does not name it.
 */
export function withRecomputation<T>(on: boolean, f: () => T): T {
  const before = recomputing;
  recomputing = on;
  try {
    return f();
  } finally {
    recomputing = before;
  }
}

/** Every tensor in a sublayer's params (nested records of tensors), each once. */
function tensorsOf(params: object): Tensor[] {
  const found = new Map<number, Tensor>();
  const visit = (value: unknown): void => {
    if (value instanceof tf.Tensor) found.set(value.id, value);
    else if (value !== null && typeof value === "object") for (const v of Object.values(value)) visit(v);
  };
  visit(params);
  return [...found.values()];
}

/** Randomness that hands out `random`'s seeds and writes each down, for the recomputation to replay. */
function recording(random: Randomness, seeds: number[]): Randomness {
  return {
    training: random.training,
    nextSeed: () => {
      const seed = random.nextSeed();
      seeds.push(seed);
      return seed;
    },
  };
}

/** The seeds the first forward pass drew, in the order it drew them: the same dropout masks again. */
function replaying(random: Randomness, seeds: readonly number[]): Randomness {
  let next = 0;
  return {
    training: random.training,
    nextSeed: () => {
      if (next >= seeds.length) throw new Error("recomputed sublayer drew more random seeds than its forward pass");
      return seeds[next++]!;
    },
  };
}

/**
 * `f(x, context, random)`: one sublayer on `x` [B, S, H], reading `params` (its weights) and
 * `context` (tensors it reads but is not differentiated by, such as the attention bias and
 * the rotary tables).
 */
export function sublayer(
  x: Tensor3D,
  context: readonly Tensor[],
  params: object,
  random: Randomness,
  f: (x: Tensor3D, context: readonly Tensor[], random: Randomness) => Tensor3D,
): Tensor3D {
  if (!tf.engine().isTapeOn()) return tf.tidy(() => f(x, context, random));
  if (!recomputing) return f(x, context, random);
  const weights = tensorsOf(params);
  const seeds: number[] = [];
  const op = tf.customGrad((...args: (Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as Tensor3D;
    const save = args[args.length - 1] as tf.GradSaveFunc;
    // Inside a custom op nothing is taped and its temporaries are freed when it returns:
    // only what is saved here (the input, and the context, which the caller frees) stays.
    save([input, ...context]);
    const value = f(input, context, recording(random, seeds));
    const gradFunc = (dy: Tensor, saved: Tensor[]) => {
      const savedInput = saved[0] as Tensor3D;
      const savedContext = saved.slice(1);
      const xs = [savedInput, ...weights];
      const { value: again, grads } = tf
        .engine()
        .gradients(() => f(savedInput, savedContext, replaying(random, seeds)), xs, dy, true) as unknown as {
        value: Tensor;
        grads: (Tensor | undefined)[];
      };
      again.dispose();
      // A weight the sublayer does not read (none today) gets a zero gradient, as autodiff gives it.
      return xs.map((t, i) => grads[i] ?? tf.zerosLike(t));
    };
    return { value, gradFunc };
  });
  return op(x, ...weights) as Tensor3D;
}
