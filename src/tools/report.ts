/**
 * report.html: a self-contained page (no scripts, no network) with the loss curves of a
 * run — the total and each objective's term, and the held-out evaluation — beside the
 * model's architecture picture.
 */
export interface ReportInput {
  model: string;
  log: Record<string, unknown>[];
  architectureSvg: string;
  summary: Record<string, string | number>;
}

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

/** One SVG line chart of `series` (name → points), with axes and a legend. */
export function lineChart(title: string, series: [string, [number, number][]][]): string {
  const W = 640;
  const H = 300;
  const m = { l: 56, r: 16, t: 28, b: 36 };
  const points = series.flatMap(([, p]) => p).filter(([, y]) => Number.isFinite(y));
  if (points.length === 0) return `<p>${escape(title)}: no data yet.</p>`;
  const [x0, x1] = [Math.min(...points.map((p) => p[0])), Math.max(...points.map((p) => p[0]))];
  const [y0, y1] = [Math.min(...points.map((p) => p[1])), Math.max(...points.map((p) => p[1]))];
  // A single value (one evaluation, a constant series) has no range: draw it mid-axis, labelled once.
  const sx = (x: number) => m.l + (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - (y1 > y0 ? (y - y0) / (y1 - y0) : 0.5) * (H - m.t - m.b);
  const ticks = y1 > y0 ? [0, 0.25, 0.5, 0.75, 1].map((f) => y0 + f * (y1 - y0)) : [y0];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
    `<text x="${m.l}" y="18" font-weight="bold">${escape(title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#888"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="#888"/>`,
    ...ticks.map((t) => `<text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${t.toPrecision(3)}</text>`),
    x1 > x0
      ? `<text x="${m.l}" y="${H - 12}">${x0}</text><text x="${W - m.r}" y="${H - 12}" text-anchor="end">${x1} steps</text>`
      : `<text x="${sx(x0)}" y="${H - 12}" text-anchor="middle">step ${x0}</text>`,
  ];
  series.forEach(([name, p], i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const finite = p.filter(([, y]) => Number.isFinite(y));
    const d = finite.map(([x, y], j) => `${j ? "L" : "M"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join("");
    parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
    // A path of one point draws nothing: mark lone points.
    if (finite.length === 1)
      parts.push(`<circle cx="${sx(finite[0]![0]).toFixed(1)}" cy="${sy(finite[0]![1]).toFixed(1)}" r="4" fill="${colour}"/>`);
    parts.push(`<text x="${W - m.r - 4}" y="${m.t + 14 * i}" text-anchor="end" fill="${colour}">${escape(name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

export function renderReport(r: ReportInput): string {
  const train = r.log.filter((e) => e["kind"] === undefined || e["kind"] === "train");
  const evals = r.log.filter((e) => e["kind"] === "eval");
  const termNames = [...new Set(train.flatMap((e) => Object.keys((e["terms"] as Record<string, number> | undefined) ?? {})))];
  const series: [string, [number, number][]][] = [["loss", train.map((e) => [e["step"] as number, e["loss"] as number])]];
  for (const t of termNames) series.push([t, train.map((e) => [e["step"] as number, (e["terms"] as Record<string, number>)[t] ?? NaN])]);
  // Loss and accuracy on charts of their own: one shared axis would flatten the accuracy.
  const evalLoss: [string, [number, number][]][] = [
    ["held-out MLM loss", evals.map((e) => [e["step"] as number, e["mlm_loss"] as number])],
  ];
  const evalAccuracy: [string, [number, number][]][] = [
    ["held-out MLM accuracy", evals.map((e) => [e["step"] as number, e["mlm_accuracy"] as number])],
  ];
  // ELECTRA: the discriminator's replaced-token detection beside its generator's MLM.
  if (evals.some((e) => typeof e["rtd_accuracy"] === "number")) {
    evalLoss.push(["held-out replaced-token detection loss", evals.map((e) => [e["step"] as number, e["rtd_loss"] as number])]);
    evalAccuracy.push(["held-out replaced-token detection accuracy", evals.map((e) => [e["step"] as number, e["rtd_accuracy"] as number])]);
  }
  const rows = Object.entries(r.summary)
    .map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(String(v))}</td></tr>`)
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bdl run: ${escape(r.model)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}th{text-align:left;padding-right:1em}section{margin:1.5em 0}</style>
</head><body>
<h1>Pretraining ${escape(r.model)}</h1>
<table>${rows}</table>
<section>${lineChart("Training loss (total and each objective's term)", series)}</section>
<section>${lineChart("Held-out MLM loss", evalLoss)}</section>
<section>${lineChart("Held-out MLM accuracy", evalAccuracy)}</section>
<section><h2>Architecture</h2>${r.architectureSvg}</section>
</body></html>
`;
}
