import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// The operator tests go last: on a fresh machine Kubernetes is still building while the other
// files run (scripts/test.sh), and they start the cluster once it is built.
class ClusterLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const needsCluster = (f: TestSpecification) => f.moduleId.endsWith("test/e2e/operator.test.ts");
    return [...sorted.filter((f) => !needsCluster(f)), ...sorted.filter(needsCluster)];
  }
}

// unit: pure code, no engine. images: recipes built on a real Docker engine. e2e: the chain on a
// real Dagger engine and registry. The real-engine projects run one file at a time: 2 cores.
export default defineConfig({
  test: {
    sequence: { sequencer: ClusterLast },
    projects: [
      { test: { name: "unit", include: ["test/**/*.test.ts"], exclude: ["test/images/**", "test/e2e/**"] } },
      { test: { name: "images", include: ["test/images/**/*.test.ts"], testTimeout: 1_800_000, hookTimeout: 1_800_000, fileParallelism: false } },
      { test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], testTimeout: 2_400_000, hookTimeout: 2_400_000, fileParallelism: false } },
    ],
  },
});
