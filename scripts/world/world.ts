// The image tests' world: the Docker engine and base images scripts/world/ provisions, and the
// test matrix with this machine's base digests and the archive's current versions filled in.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { aptSetup } from "../../src/recipes/apt.js";
import { docker, tail } from "./docker.js";
import { makeExtRepo, makeTaggedRepo } from "./extRepo.js";

/** The pg-images tree: the nearest folder above this file with a package.json (also from dist/). */
export const REPO = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();
export const WORLD = process.env.PG_IMAGES_WORLD ?? "/var/tmp/pg-images-world";
export const TEMPLATE = join(REPO, "test/images/matrix.yaml");

/** Point the docker CLI at the world's engine unless DOCKER_HOST says otherwise. */
export function useWorldEngine(): void {
  const sock = join(WORLD, "docker/docker.sock");
  if (!process.env.DOCKER_HOST && existsSync(sock)) process.env.DOCKER_HOST = `unix://${sock}`;
}

/** Each release's base from scripts/world/bases.sh: an image index (linux/amd64, linux/arm64), digest-pinned. */
export function readBases(): Record<string, string> {
  return readWorldJson("bases.json", "bases.sh");
}

/**
 * syft, crane, cosign and registry images, digest-pinned, from scripts/world/tools.sh; kubectl
 * from kube.sh start, once the cluster has run.
 */
export function readTools(): Record<string, string> {
  const kube = join(WORLD, "kube/tools.json");
  return { ...readWorldJson("tools.json", "tools.sh"), ...(existsSync(kube) ? (JSON.parse(readFileSync(kube, "utf8")) as Record<string, string>) : {}) };
}

function readWorldJson(name: string, script: string): Record<string, string> {
  const file = join(WORLD, name);
  if (!existsSync(file)) throw new Error(`${file} is missing: run scripts/world/${script}`);
  return JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
}

const PLACEHOLDER = /\{\{(base|tool|pg|pin):([a-z]+)(?::([a-z0-9.+-]+))?\}\}/g;

/** A digest-pinned image reference that names no real image. */
const standInImage = (name: string) => `stand-in/${name}@sha256:${"0".repeat(64)}`;

/** The template with stand-in values: enough to plan (ids, order) without an engine. */
export function standInMatrix(template: string): string {
  return template.replace(PLACEHOLDER, (_, kind: string, release: string, arg: string) =>
    kind === "base" || kind === "tool" ? standInImage(release) : kind === "pg" ? `${arg}.0` : "0-*",
  );
}

/** The template with stand-ins for its tool images alone: what Docker builds (which use none) resolve, before tools.sh is done. */
export function standInTools(template: string): string {
  return template.replace(/\{\{tool:([a-z]+)\}\}/g, (_, name: string) => standInImage(name));
}

/** crane (built by tools.sh) with these arguments; returns its trimmed stdout or throws with its stderr. */
function crane(what: string, args: string[]): string {
  const bin = join(WORLD, "bin/crane");
  const r = spawnSync(existsSync(bin) ? bin : "crane", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${what}: crane ${args[0]} failed: ${r.error?.message ?? tail(r.stderr)}`);
  return r.stdout.trim();
}

/** A layer holding the certificates under /usr/local/share/ca-certificates, owned by root, byte-stable. */
function certLayer(dir: string, certs: string[]): string {
  const root = join(dir, "root/usr/local/share/ca-certificates");
  mkdirSync(root, { recursive: true });
  for (const c of certs) {
    copyFileSync(join("/usr/local/share/ca-certificates", c), join(root, c));
    chmodSync(join(root, c), 0o644);
  }
  const layer = join(dir, "certs.tar");
  const tar = ["--numeric-owner", "--owner=0", "--group=0", "--mtime=@0", "--sort=name", "-C", join(dir, "root"), "-cf", layer, "usr"];
  const r = spawnSync("tar", tar, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`local CA layer: tar failed: ${r.error?.message ?? r.stderr}`);
  return layer;
}

/** The base with the layer on top, every platform of its index kept: the CAs reach arm64 builds too. */
function withLayer(ref: string, layer: string, tag: string): string {
  const repo = ref.replace(/@.*$/, "").replace(/:[^/]*$/, "");
  const manifest = JSON.parse(crane(tag, ["manifest", ref])) as { manifests?: { digest: string; platform?: { architecture: string } }[] };
  if (!manifest.manifests) crane(tag, ["append", "-b", ref, "-f", layer, "-t", tag]);
  else {
    const children = manifest.manifests.map((m) =>
      crane(tag, ["append", "-b", `${repo}@${m.digest}`, "-f", layer, "-t", `${tag}-${m.platform?.architecture ?? "unknown"}`]),
    );
    crane(tag, ["index", "append", ...children.flatMap((c) => ["-m", c]), "-t", tag]);
  }
  return `${tag}@${crane(tag, ["digest", tag])}`;
}

/**
 * Extra CA certificates of this machine (a TLS-inspecting egress proxy), layered onto the bases
 * so pip and git inside builds trust it; ca-certificates picks them up when installed. Returns the
 * bases unchanged when there are none.
 */
async function withLocalCas(bases: Record<string, string>): Promise<Record<string, string>> {
  const dir = "/usr/local/share/ca-certificates";
  const certs = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".crt")).sort() : [];
  if (certs.length === 0) return bases;
  // Per call: test runs of several worktrees share $WORLD.
  mkdirSync(join(WORLD, "test-ca"), { recursive: true });
  const work = mkdtempSync(join(WORLD, "test-ca/layer-"));
  try {
    const layer = certLayer(work, certs);
    const out: Record<string, string> = {};
    for (const [release, ref] of Object.entries(bases)) {
      const pinned = withLayer(ref, layer, `127.0.0.1:5000/pg-images-test/debian:${release}-slim-ca`);
      if (!/@sha256:[0-9a-f]{64}$/.test(pinned)) throw new Error(`base ${release} with local CAs: not digest-pinned: ${pinned}`);
      out[release] = pinned;
    }
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Candidate versions apt would install in a release's base, with the test matrix's sources. */
async function candidates(base: string, release: string, majors: number[], packages: string[]): Promise<Map<string, string>> {
  const postgres = majors.map((major) => ({ major, version: `${major}.0`, preview: false }));
  const script = [aptSetup("distro", release, postgres, { mirror: "", archive: "", keyUrl: "", fingerprint: "" }).script, "apt-get update -qq", `apt-cache policy ${packages.join(" ")}`].join("\n");
  const r = await docker(["run", "--rm", "--network", "host", base, "sh", "-ec", script]);
  if (r.code !== 0) throw new Error(`resolving versions on ${release}: ${tail(r.out)}`);
  const found = new Map<string, string>();
  let current = "";
  for (const line of r.out.split("\n")) {
    const pkg = /^(\S+):$/.exec(line);
    if (pkg) current = pkg[1]!;
    const cand = /^\s+Candidate: (\S+)$/.exec(line);
    if (cand && cand[1] !== "(none)") found.set(current, cand[1]!);
  }
  return found;
}

const upstream = (version: string) => version.replace(/-[^-]*$/, "");

/** The template with bases and versions of this machine's world. */
export async function resolveMatrix(template: string): Promise<{ text: string; values: Record<string, string> }> {
  const bases = await withLocalCas(readBases());
  const wanted = new Map<string, { majors: Set<number>; packages: Set<string> }>();
  const tools = template.includes("{{tool:") ? readTools() : {};
  for (const [, kind, release, arg] of template.matchAll(PLACEHOLDER)) {
    if (kind === "base" || kind === "tool") continue;
    const w = wanted.get(release!) ?? { majors: new Set(), packages: new Set() };
    wanted.set(release!, w);
    if (kind === "pg") {
      w.majors.add(Number(arg));
      w.packages.add(`postgresql-${arg}`);
    } else w.packages.add(arg!);
  }
  const versions = new Map<string, string>();
  await Promise.all(
    [...wanted].map(async ([release, w]) => {
      const base = bases[release];
      if (!base) throw new Error(`no base for ${release} in ${WORLD}/bases.json: run scripts/world/bases.sh ${release}`);
      for (const [pkg, v] of await candidates(base, release, [...w.majors], [...w.packages])) versions.set(`${release}:${pkg}`, v);
    }),
  );
  const values: Record<string, string> = {};
  const text = template.replace(PLACEHOLDER, (all: string, kind: string, release: string, arg: string) => {
    const key = kind === "pg" ? `${release}:postgresql-${arg}` : `${release}:${arg}`;
    const v = kind === "base" ? bases[release] : kind === "tool" ? tools[release] : versions.get(key);
    if (!v) throw new Error(`${all}: nothing found (is the package in ${release}'s archive?)`);
    values[all] = kind === "pg" ? upstream(v) : kind === "pin" ? `${upstream(v)}-*` : v;
    return values[all]!;
  });
  return { text, values };
}

/** A build context: the resolved matrix, the files it names, and the fixture extension's repository. */
export function makeContext(dir: string, matrixText: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "matrix.yaml"), matrixText);
  for (const image of ["failtester", "stylechecker"]) {
    mkdirSync(join(dir, "images", image), { recursive: true });
    cpSync(join(REPO, "images", image, "requirements.txt"), join(dir, "images", image, "requirements.txt"));
  }
  makeExtRepo(join(REPO, "test/fixtures/ext-repo-src"), join(dir, "ext-repo"));
  makeTaggedRepo(join(REPO, "test/fixtures/style-tools/cmake-tool"), join(dir, "style-cmake"), "pgi-format-0.1.0");
  makeTaggedRepo(join(REPO, "test/fixtures/style-tools/make-tool"), join(dir, "style-make"), "v0.1.0");
}
