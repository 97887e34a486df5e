// Loaded with `node --import` into a child process: on exit, writes the process's peak RSS
// (bytes) as one JSON line to the file named by BDL_PEAK_RSS_FILE.
import { writeFileSync } from "node:fs";

process.on("exit", () => {
  const file = process.env.BDL_PEAK_RSS_FILE;
  if (file) writeFileSync(file, JSON.stringify({ peak_rss_bytes: process.resourceUsage().maxRSS * 1024 }));
});
