import { tf, type Tensor1D, type Tensor2D } from "./backends/tf.js";

/** Typed access to a graph's parameters by name, checking each tensor's rank as it binds. */
export interface TensorGetter<Name extends string> {
  t1(name: Name): Tensor1D;
  t2(name: Name): Tensor2D;
}

export function tensorGetter<Name extends string>(lookup: (name: Name) => tf.Tensor | undefined): TensorGetter<Name> {
  const get = (name: Name, rank: number): tf.Tensor => {
    const t = lookup(name);
    if (!t) throw new Error(`missing parameter '${name}'`);
    if (t.rank !== rank) throw new Error(`parameter '${name}' has shape [${t.shape}], expected rank ${rank}`);
    return t;
  };
  return { t1: (n) => get(n, 1) as Tensor1D, t2: (n) => get(n, 2) as Tensor2D };
}

/** `bind` called once per key: the layers of a sharing group get the same parameter objects. */
export function bindOnce<Key, Value>(bind: (key: Key) => Value): (key: Key) => Value {
  const bound = new Map<Key, Value>();
  return (key) => {
    if (!bound.has(key)) bound.set(key, bind(key));
    return bound.get(key)!;
  };
}
