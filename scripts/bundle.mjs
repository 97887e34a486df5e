// Bundles the CLI and the runtime (already compiled by tsc into dist/) into dist/bundle/.
// - Start-up: `bdlc check` reads a handful of files instead of chevrotain's hundreds of
//   ES modules. Commands stay separate chunks, loaded only when run.
// - One TensorFlow.js: tfjs-core's gradients are only registered by its ES-module build,
//   whose files import each other without extensions (Node cannot load them unbundled),
//   so tfjs is bundled from its ES modules ("module" before "main"), and compiled graphs
//   import `runtime.js` from this same bundle — sharing one engine with the CLI.
// ts-morph and prettier (used only to emit code) and optional backends stay external.
import { rmSync } from "node:fs";
import { build } from "esbuild";

// Stale chunks from an earlier build would otherwise pile up beside the new ones.
rmSync("dist/bundle", { recursive: true, force: true });

await build({
  entryPoints: { cli: "dist/cli/cli.js", api: "dist/app/api.js", runtime: "dist/runtime/index.js" },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  mainFields: ["module", "main"],
  outdir: "dist/bundle",
  external: ["ts-morph", "prettier", "@tensorflow/tfjs-node", "@tensorflow/tfjs-node-gpu", "webgpu", "onnxruntime-node"],
  // Some bundled CommonJS dependencies `require` Node built-ins; ES modules have no `require`.
  // …and some (the wasm backend's Emscripten loader) read __dirname.
  banner: {
    js: [
      'import { createRequire as __bdlCreateRequire } from "node:module";',
      'import { fileURLToPath as __bdlFileURLToPath } from "node:url";',
      'import { dirname as __bdlDirname } from "node:path";',
      "const require = __bdlCreateRequire(import.meta.url);",
      "const __filename = __bdlFileURLToPath(import.meta.url);",
      "const __dirname = __bdlDirname(__filename);",
    ].join(" "),
  },
  logLevel: "warning",
});
