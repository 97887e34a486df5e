export { createOptimizer } from "./optimizer.js";
export type { Optimizer, OptimizerConfig, OptimizerState, OptimizerStateInput, ParamState } from "./optimizer.js";
export { learningRate } from "./schedule.js";
export type { ScheduleConfig } from "./schedule.js";
export { clipByGlobalNorm, clipCoefficient, globalNorm } from "./clip.js";
