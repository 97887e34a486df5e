// The data pipeline on a large text corpus: `bdlc train` on a generated file of `--corpus-mb` MB
// (default 500), from opening the corpus to the first step, in a child process whose peak RSS is
// reported. The tokenizer is trained once on the built-in corpus and put in the run folder first,
// so the measure is reading, splitting, tokenizing and cutting examples, not tokenizer training.
import { spawnSync } from "node:child_process";
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "bin", "bdlc.js");
const MODEL = join(root, "models", "bert-mini.bdl");

/**
 * Writes `bytes` of text: WordNet-like sentences drawn from a fixed vocabulary by a seeded
 * generator, 8 lines to a paragraph, so the file has documents, sentences and a long tail of
 * words like real text.
 */
function writeCorpus(path, bytes) {
  const words = [];
  for (let i = 0; i < 20_000; i++) words.push(i.toString(36).replace(/[0-9]/g, (d) => "aeiouybdgk"[d]) + "a");
  let state = 12345;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  const fd = openSync(path, "w");
  let written = 0;
  let line = 0;
  while (written < bytes) {
    const parts = [];
    for (let k = 0; k < 512; k++) {
      const n = 6 + (next() % 18);
      const sentence = [];
      // Zipf-like: small indices are far more frequent.
      for (let w = 0; w < n; w++) sentence.push(words[Math.floor(words.length * (next() / 2 ** 32) ** 3)]);
      sentence[0] = sentence[0][0].toUpperCase() + sentence[0].slice(1);
      parts.push(`${sentence.join(" ")}.\n${++line % 8 === 0 ? "\n" : ""}`);
    }
    const chunk = parts.join("");
    writeSync(fd, chunk);
    written += Buffer.byteLength(chunk);
  }
  closeSync(fd);
}

function runCli(args, rssFile) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ["--import", join(root, "bench", "peak-rss.mjs"), cli, ...args], {
    env: { ...process.env, BDL_PEAK_RSS_FILE: rssFile },
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`bdlc ${args.join(" ")} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return { seconds, output: r.stdout + r.stderr, peakRss: JSON.parse(readFileSync(rssFile, "utf8")).peak_rss_bytes };
}

/** One row: peak RSS and wall time of a one-step run on the big corpus, beside the same run on the built-in one. */
export function runCorpusBench({ megabytes = 500, backend = "auto" } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "bdl-bench-corpus-"));
  try {
    const corpus = join(dir, "corpus.txt");
    writeCorpus(corpus, megabytes * 2 ** 20);
    const rss = join(dir, "rss.json");
    const train = (out, extra) =>
      runCli(["train", MODEL, "--steps", "1", "--batch", "2", "--out", out, "--backend", backend, ...extra], rss);
    // The built-in corpus's run trains the tokenizer that the big corpus's run then reuses.
    const small = train(join(dir, "wordnet-run"), []);
    mkdirSync(join(dir, "big-run"));
    copyFileSync(join(dir, "wordnet-run", "tokenizer.json"), join(dir, "big-run", "tokenizer.json"));
    const big = train(join(dir, "big-run"), ["--corpus", corpus]);
    const sequences = Number(/([0-9]+) training sequences/.exec(big.output)?.[1]);
    const mb = (bytes) => Math.round(bytes / 2 ** 20);
    return {
      suite: "corpus",
      model: "bert-mini",
      corpus_mb: Math.round(statSync(corpus).size / 2 ** 20),
      training_sequences: sequences,
      seconds: Number(big.seconds.toFixed(1)),
      peak_rss_mb: mb(big.peakRss),
      wordnet_peak_rss_mb: mb(small.peakRss),
      // What the corpus itself costs: the same run's peak on the built-in corpus subtracted.
      corpus_rss_mb: mb(big.peakRss - small.peakRss),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
