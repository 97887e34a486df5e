/** The compiler as a library: what the CLI does, for programs (benchmarks, notebooks, tools). */
export { checkFile, checkProgram, type CheckedProgram } from "../compiler/semantics/check.js";
export { emitGraph } from "../compiler/emit/emit.js";
export { emitTorchModule } from "../compiler/emit/torch.js";
export { loadGraph } from "./graph-loader.js";
export type { ResolvedModel } from "../model/model.js";
export { countParams } from "../model/counts.js";
export { renderGraphSvg } from "../tools/architecture-svg.js";
