import { tf, type Tensor, type Tensor1D } from "../backends/tf.js";

export interface LayerNormParams {
  weight: Tensor1D;
  /** Absent in a model with `norm_bias false`: the output is n̂·weight. */
  bias?: Tensor1D;
}

/**
 * LayerNorm over the last axis with biased variance, as torch.nn.LayerNorm, with its
 * gradient written out: autodiff of the forward ops takes about 25 kernels, this 12.
 * With n̂ = (x − mean)·r, r = 1/√(var + eps), g = dy·weight:
 *   dx = r·(g − mean(g) − n̂·mean(g·n̂)),  dweight = Σ dy·n̂,  dbias = Σ dy
 * (means over the last axis, sums over all other axes).
 */
const normalize = (eps: number) =>
  tf.customGrad((...args: (Tensor | tf.GradSaveFunc)[]) => {
    const [x, weight, bias] = args as [Tensor, Tensor1D, Tensor1D];
    const save = args[3] as tf.GradSaveFunc;
    const axis = x.rank - 1;
    const centred = tf.sub(x, tf.mean(x, axis, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), axis, true), eps));
    const normed = tf.mul(centred, rstd);
    save([normed, rstd, weight]);
    const value = tf.add(tf.mul(normed, weight), bias);
    const gradFunc = (dy: Tensor, saved: Tensor[]) => {
      const [n, r, w] = saved as [Tensor, Tensor, Tensor1D];
      const g = tf.mul(dy, w);
      const dx = tf.mul(r, tf.sub(tf.sub(g, tf.mean(g, axis, true)), tf.mul(n, tf.mean(tf.mul(g, n), axis, true))));
      const rows = tf.reshape(dy, [-1, dy.shape[axis]!]);
      const dWeight = tf.sum(tf.mul(rows, tf.reshape(n, [-1, dy.shape[axis]!])), 0);
      return [dx, dWeight, tf.sum(rows, 0)];
    };
    return { value, gradFunc };
  });

/** The same LayerNorm without a bias: value n̂·weight; dx and dweight as above. */
const normalizeWithoutBias = (eps: number) =>
  tf.customGrad((...args: (Tensor | tf.GradSaveFunc)[]) => {
    const [x, weight] = args as [Tensor, Tensor1D];
    const save = args[2] as tf.GradSaveFunc;
    const axis = x.rank - 1;
    const centred = tf.sub(x, tf.mean(x, axis, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), axis, true), eps));
    const normed = tf.mul(centred, rstd);
    save([normed, rstd, weight]);
    const value = tf.mul(normed, weight);
    const gradFunc = (dy: Tensor, saved: Tensor[]) => {
      const [n, r, w] = saved as [Tensor, Tensor, Tensor1D];
      const g = tf.mul(dy, w);
      const dx = tf.mul(r, tf.sub(tf.sub(g, tf.mean(g, axis, true)), tf.mul(n, tf.mean(tf.mul(g, n), axis, true))));
      const dWeight = tf.sum(tf.mul(tf.reshape(dy, [-1, dy.shape[axis]!]), tf.reshape(n, [-1, dy.shape[axis]!])), 0);
      return [dx, dWeight];
    };
    return { value, gradFunc };
  });

/** One custom-gradient function per eps (models use one or two), with and without bias. */
const byEps = new Map<number, ReturnType<typeof normalize>>();
const byEpsWithoutBias = new Map<number, ReturnType<typeof normalizeWithoutBias>>();

export function layerNorm<T extends Tensor>(x: T, p: LayerNormParams, eps: number): T {
  if (p.bias === undefined) {
    let f = byEpsWithoutBias.get(eps);
    if (!f) byEpsWithoutBias.set(eps, (f = normalizeWithoutBias(eps)));
    return f(x, p.weight) as T;
  }
  let f = byEps.get(eps);
  if (!f) byEps.set(eps, (f = normalize(eps)));
  return f(x, p.weight, p.bias) as T;
}
