/** The compiler as a library: what the CLI does, for programs (benchmarks, notebooks, tools). */
export { checkFile, checkProgram, type CheckedProgram } from "./check.js";
export { emitGraph } from "./emit.js";
export { loadGraph } from "./graph-loader.js";
export type { ResolvedModel } from "./model.js";
export { countParams } from "./params.js";
export { renderGraphSvg } from "./graph.js";
