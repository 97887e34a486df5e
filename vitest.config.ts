import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Two cores: the default pool oversubscribes them and slows the fuzz and CLI tests.
    maxWorkers: 2,
    testTimeout: 60_000,
  },
});
