// `node bench/profile.mjs [--config mini] [--backend native] [--top 15]`: tf.profile of one
// training step of the bench model — kernels by share of kernel time, and their count.
// Kernels run inside custom gradients are also counted under their wrapper, so shares are
// of the sum over leaf kernels only.
import { parseArgs } from "node:util";
import { setUpBench } from "./train.mjs";
import * as rt from "../dist/bundle/runtime.js";

const { values } = parseArgs({
  options: {
    config: { type: "string", default: "mini" },
    backend: { type: "string", default: "auto" },
    top: { type: "string", default: "15" },
  },
});
const { used, tf, graph, state, x, y } = await setUpBench(values.config, values.backend);
const step = () => graph.trainStep(state, 1e-4, x, y, rt.EVAL);
step();
step();
const t0 = performance.now();
const profile = await tf.profile(step);
const wall = performance.now() - t0;
// customGrad's wrapper kernel is named after the function it wraps ("forward"…) and its time
// includes the kernels inside it, which are also listed themselves.
const isWrapper = (name) => name === "forward" || name.endsWith("__op");
const byKernel = new Map();
for (const k of profile.kernels) {
  if (isWrapper(k.name)) continue;
  const ms = typeof (await k.kernelTimeMs) === "number" ? await k.kernelTimeMs : 0;
  const row = byKernel.get(k.name) ?? { ms: 0, count: 0 };
  row.ms += ms;
  row.count += 1;
  byKernel.set(k.name, row);
}
const total = [...byKernel.values()].reduce((a, r) => a + r.ms, 0);
const count = [...byKernel.values()].reduce((a, r) => a + r.count, 0);
console.log(`${values.config} on ${used}: profiled step ${Math.round(wall)} ms, ${count} kernels, ${Math.round(total)} ms in kernels`);
for (const [name, r] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(values.top))) {
  console.log(`${name.padEnd(24)} ${r.ms.toFixed(1).padStart(8)} ms ${((100 * r.ms) / total).toFixed(1).padStart(5)}%  ×${r.count}`);
}
