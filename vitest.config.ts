import { defineConfig } from "vitest/config";

// unit: pure code, no engine. images: recipes built on a real Docker engine. e2e: the chain on a
// real Dagger engine and registry. The real-engine projects run one file at a time: 2 cores.
export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["test/**/*.test.ts"], exclude: ["test/images/**", "test/e2e/**"] } },
      { test: { name: "images", include: ["test/images/**/*.test.ts"], testTimeout: 1_800_000, hookTimeout: 1_800_000, fileParallelism: false } },
      { test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], testTimeout: 2_400_000, hookTimeout: 2_400_000, fileParallelism: false } },
    ],
  },
});
