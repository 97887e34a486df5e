// Bundles the CLI (already compiled by tsc into dist/) into dist/bundle/ so that start-up
// reads a handful of files instead of chevrotain's hundreds of ES modules: `bdlc check`
// must answer at editor speed. Commands stay separate chunks, loaded only when run;
// ts-morph and prettier (used only to emit code) stay external.
import { build } from "esbuild";

await build({
  entryPoints: { cli: "dist/compiler/cli.js" },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outdir: "dist/bundle",
  external: ["ts-morph", "prettier", "@tensorflow/*", "webgpu", "onnxruntime-node"],
  logLevel: "warning",
});
