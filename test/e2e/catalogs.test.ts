// Catalogs from the registry's truth, end to end: two release jobs each release one major (as
// the CI files' groups do), and every catalog written afterwards lists both, each by the
// timestamped tag and digest the registry holds, in the shape CloudNativePG's CRD accepts.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO, resolveMatrix, useWorldEngine } from "../../scripts/world/world.js";
import { call, CATALOGS_17_TIME, dropWork, statuses, useWorldDagger } from "./harness.js";
import { manifestDigest } from "./registry.js";

const runId = `catalogs${Date.now().toString(36)}`;
const work = join(REPO, ".pg-images", runId);
const prefix = `127.0.0.1:5000/${runId}`;
const registryArgs = ["--registry", prefix, "--testing-registry", `${prefix}/testing`];
// The operator release whose CRD the catalogs are checked against, from the Go module proxy.
const OPERATOR = "github.com/cloudnative-pg/cloudnative-pg@v1.28.2";
const CRD = "config/crd/bases/postgresql.cnpg.io_clusterimagecatalogs.yaml";
let matrixPath = "";

interface Catalog {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels: Record<string, string> };
  spec: { images: { major: number; image: string }[] };
}

function crdSchema(): object {
  const r = spawnSync("go", ["mod", "download", "-json", OPERATOR], { cwd: work, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`go mod download ${OPERATOR}: ${r.stderr}`);
  const dir = (JSON.parse(r.stdout) as { Dir: string }).Dir;
  const crd = parse(readFileSync(join(dir, CRD), "utf8")) as { spec: { versions: { name: string; schema: { openAPIV3Schema: object } }[] } };
  return crd.spec.versions.find((v) => v.name === "v1")!.schema.openAPIV3Schema;
}

/** The CRD's own schema, as the API server would apply it (its x-kubernetes-* keywords are annotations to a JSON Schema validator). */
function validator(): (doc: unknown) => string[] {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = ajv.compile(crdSchema());
  return (doc) => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
}

const release = (name: string, pg: string, timestamp: string) => call(work, name, ["publish", "--release", "--pg", pg, "--matrix", matrixPath, ...registryArgs, "--timestamp", timestamp]);
const catalogIn = (dir: string) => parse(readFileSync(join(dir, "catalog-minimal-trixie.yaml"), "utf8")) as Catalog;

beforeAll(async () => {
  useWorldEngine();
  useWorldDagger();
  mkdirSync(work, { recursive: true });
  matrixPath = join(".pg-images", runId, "matrix.yaml");
  writeFileSync(join(REPO, matrixPath), (await resolveMatrix(readFileSync(join(REPO, "test/e2e/catalogs.yaml"), "utf8"))).text);
}, 600_000);

afterAll(() => dropWork(work));

describe("ClusterImageCatalogs from what the release repository holds", () => {
  it("the first job's catalog names the major it released and says which major is missing", async () => {
    const r = await release("job-15", "15", "202611290100");
    expect(statuses(r.summary)).toEqual({ "minimal-15-trixie": "passed" });
    const out = join(work, "out", "job-15", "catalogs");
    expect(catalogIn(out).spec.images.map((i) => i.major)).toEqual([15]);
    expect(readFileSync(join(out, "left-out.txt"), "utf8")).toMatch(/^minimal-17-trixie: no released image in .*postgresql that its aliases \(.*\) point at; PostgreSQL 17 is not in catalog-minimal-trixie\.yaml$/m);
  });

  it("after the second job, every catalog written (its report, and the catalogs function) lists both majors by timestamped tag and digest", async () => {
    const r = await release("job-17", "17", CATALOGS_17_TIME);
    expect(statuses(r.summary)).toEqual({ "minimal-17-trixie": "passed" });
    const fromRelease = join(work, "out", "job-17", "catalogs");
    const c = spawnSync("node", ["dist/bin/pg-images-local.js", "catalogs", "--matrix", matrixPath, ...registryArgs, "--out", join(work, "out", "catalogs")], { cwd: REPO, encoding: "utf8" });
    expect(c.status, c.stderr.split("\n").slice(-20).join("\n")).toBe(0);
    const fromFunction = join(work, "out", "catalogs");

    for (const dir of [fromRelease, fromFunction]) {
      expect(readdirSync(dir).sort()).toEqual(["catalog-minimal-trixie.yaml", "kustomization.yaml"]);
      const catalog = catalogIn(dir);
      expect(catalog.metadata.name).toBe("postgresql-minimal-trixie");
      expect(catalog.metadata.labels).toEqual({
        "images.cnpg.io/family": "postgresql",
        "images.cnpg.io/type": "minimal",
        "images.cnpg.io/os": "trixie",
        "images.cnpg.io/date": "20261129",
        "images.cnpg.io/publisher": "github.com",
      });
      expect(catalog.spec.images.map((i) => i.major)).toEqual([15, 17]);
      for (const { major, image } of catalog.spec.images) {
        const m = /^(.+):(\d+\.\d+-(\d{12})-minimal-trixie)@(sha256:[0-9a-f]{64})$/.exec(image);
        expect(m, image).not.toBeNull();
        expect(m![3]).toBe(major === 15 ? "202611290100" : CATALOGS_17_TIME);
        // The registry holds that digest under that tag, and the major's alias points at it.
        expect(await manifestDigest(`${m![1]}:${m![2]}`)).toBe(m![4]);
        expect(await manifestDigest(`${m![1]}:${major}-minimal-trixie`)).toBe(m![4]);
      }
      expect(parse(readFileSync(join(dir, "kustomization.yaml"), "utf8"))).toEqual({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: ["catalog-minimal-trixie.yaml"] });
    }
    expect(readFileSync(join(fromFunction, "catalog-minimal-trixie.yaml"), "utf8")).toBe(readFileSync(join(fromRelease, "catalog-minimal-trixie.yaml"), "utf8"));
  });

  it("the catalog passes the operator's own CRD schema; one the operator would refuse does not", () => {
    const check = validator();
    const catalog = catalogIn(join(work, "out", "catalogs"));
    expect(check(catalog)).toEqual([]);
    // Shown to fail: the CRD requires each image's major to be an integer and its image a string.
    expect(check({ ...catalog, spec: { images: [{ major: "17", image: 17 }] } }).length).toBeGreaterThan(0);
  });
});
