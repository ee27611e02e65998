// The SDK's own introspector, in dry-run mode, reads src/ the way the engine does when it loads
// the module: this proves what `dagger call` will offer without an engine.
import { beforeAll, describe, expect, it } from "vitest";
import { cachePolicies, introspect, type ModuleTypes, type Fn } from "../helpers/introspect.js";

let functions: Record<string, Fn>;
let objects: ModuleTypes["objects"];

beforeAll(() => {
  ({ functions, objects } = introspect());
}, 60_000);
describe("module registration", () => {
  it.each(["plan", "build", "buildAll", "publish", "dockerfile", "retention"])("registers %s with a usage example", (name) => {
    expect(functions[name]).toBeDefined();
    expect(functions[name]!.description).toMatch(/Example usage: dagger call /);
  });

  it("gives publish a release boolean defaulting to false", () => {
    expect(functions.publish!.arguments.release).toMatchObject({ type: { kind: "BOOLEAN_KIND" }, defaultValue: false });
  });

  it("gives plan a format defaulting to the table", () => {
    expect(functions.plan!.arguments.format).toMatchObject({ type: { kind: "STRING_KIND" }, defaultValue: "table" });
  });

  it("returns a Container from build", () => {
    expect(JSON.stringify(functions.build)).toContain('"Container"');
  });

  it.each(["buildAll", "publish"])("returns a Report from %s", (name) => {
    expect(functions[name]!.returnType).toMatchObject({ kind: "OBJECT_KIND", name: "Report" });
  });

  it("caches every function for one session only, so a re-run tests and reports again", async () => {
    const policies = await cachePolicies("PgImages");
    expect(Object.keys(policies).sort()).toEqual(Object.keys(functions).sort());
    expect(new Set(Object.values(policies))).toEqual(new Set(["session"]));
  }, 60_000);
});

describe("the Report object", () => {
  it("exposes summary, failed and directory, and a check that returns the directory", () => {
    const report = objects.Report!;
    expect(Object.keys(report.properties).sort()).toEqual(["directory", "failed", "summary"]);
    expect(report.methods.check).toMatchObject({ returnType: { kind: "OBJECT_KIND", name: "Directory" } });
    expect(report.methods.check!.description).toMatch(/Example usage: dagger call build-all check export --path/);
  });
});
