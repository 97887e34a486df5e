/** `bdlc report RUN`: a run folder's report.html, drawn again from its log and summary. */
import { parseFlags, requirePositionals, type Command } from "./command.js";

const help = `Usage: bdlc report RUN

Draw RUN/report.html (loss curves, evaluations, the architecture) from the run folder: for a
run the torch engine trained without bdlc (a folder prepared by bdlc train --engine torch
--dry-run, run with the line it printed), whose ranks write everything but the report.`;

export const report: Command = {
  help,
  async run(args, io) {
    const { positionals } = parseFlags(args, {}, help);
    requirePositionals(positionals, 1, 1, "RUN", help);
    const { reportRun } = await import("../../app/report-run.js");
    io.out(`wrote ${reportRun(positionals[0]!)}`);
    return 0;
  },
};
