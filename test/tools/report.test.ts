/** report.html's charts: a run with one held-out evaluation still shows it, labelled once. */
import { describe, expect, it } from "vitest";
import { lineChart, renderReport } from "../../src/tools/report.js";

/** The chart of `title` in a rendered report. */
function chart(html: string, title: string): string {
  const start = html.indexOf(`font-weight="bold">${title}</text>`);
  expect(start, title).toBeGreaterThan(0);
  return html.slice(start, html.indexOf("</svg>", start));
}

describe("report.html", () => {
  const log = [
    { step: 10, loss: 6.3, terms: { mlm: 5.7, nsp: 0.6 } },
    { step: 20, loss: 6.2, terms: { mlm: 5.6, nsp: 0.6 } },
    { kind: "eval", step: 20, mlm_loss: 5.69, mlm_accuracy: 0.125, perplexity: 297.6 },
  ];
  const html = renderReport({ model: "tiny", log, architectureSvg: "<svg></svg>", summary: { model: "tiny" } });

  it("draws a lone evaluation as a visible point, its value labelled once", () => {
    for (const [title, label] of [
      ["Held-out MLM loss", "5.69"],
      ["Held-out MLM accuracy", "0.125"],
    ] as const) {
      const svg = chart(html, title);
      expect(svg).toMatch(/<circle cx="[\d.]+" cy="[\d.]+" r="4"/);
      expect(svg.split(`>${label}</text>`).length - 1).toBe(1);
      expect(svg).toContain(">step 20</text>");
      expect(svg).not.toContain("NaN");
    }
  });

  it("charts an ELECTRA run's replaced-token detection beside its generator's MLM", () => {
    const electra = renderReport({
      model: "tiny-electra",
      log: [
        ...log,
        { kind: "eval", step: 30, mlm_loss: 5.5, mlm_accuracy: 0.2, perplexity: 244.7, rtd_loss: 0.41, rtd_accuracy: 0.86, replaced: 0.12 },
      ],
      architectureSvg: "<svg></svg>",
      summary: { model: "tiny-electra" },
    });
    expect(chart(electra, "Held-out MLM loss")).toContain(">held-out replaced-token detection loss</text>");
    expect(chart(electra, "Held-out MLM accuracy")).toContain(">held-out replaced-token detection accuracy</text>");
    expect(html).not.toContain("replaced-token");
  });

  it("draws a series of several points as a line with five axis labels", () => {
    const svg = chart(html, "Training loss (total and each objective's term)");
    expect(svg).not.toContain("<circle");
    expect(svg.match(/text-anchor="end">[\d.]+<\/text>/g)?.length).toBe(5);
    expect(svg).toContain("20 steps");
  });

  it("a constant series is a flat line mid-chart, not a division by zero", () => {
    const svg = lineChart("flat", [
      [
        "x",
        [
          [1, 2],
          [2, 2],
          [3, 2],
        ],
      ],
    ]);
    expect(svg).not.toContain("NaN");
    expect(svg).not.toContain("Infinity");
    expect(svg.split(">2.00</text>").length - 1).toBe(1);
  });
});
