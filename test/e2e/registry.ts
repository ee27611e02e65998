// Reading a registry back through its HTTP API, and a second registry that requires a password.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ACCEPT = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** The digest a registry serves for repository:tag (or @digest), from Docker-Content-Digest. */
export async function manifestDigest(ref: string, auth?: { user: string; password: string }): Promise<string | undefined> {
  const m = /^([^/]+)\/(.+?)(?::([^:/@]+)|@(sha256:[0-9a-f]{64}))$/.exec(ref);
  if (!m) throw new Error(`not a tag or digest reference: ${ref}`);
  const [, host, repo, tag, digest] = m;
  const headers: Record<string, string> = { Accept: ACCEPT };
  if (auth) headers.Authorization = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}`;
  const r = await fetch(`http://${host}/v2/${repo}/manifests/${tag ?? digest}`, { method: "HEAD", headers });
  if (r.status === 404) return undefined;
  if (!r.ok) throw new Error(`HEAD ${ref}: HTTP ${r.status}`);
  return r.headers.get("docker-content-digest") ?? undefined;
}

/** Every repository under host/prefix with its sorted tags: a snapshot to compare. */
export async function tagsIn(prefix: string): Promise<Record<string, string[]>> {
  const [host, ...path] = prefix.split("/");
  const root = path.join("/");
  const repositories: string[] = [];
  // The catalog comes in pages (at most 1,000 entries each), linked by the Link header.
  for (let next: string | undefined = `/v2/_catalog?n=1000`; next; ) {
    const r: Response = await fetch(`http://${host}${next}`);
    if (!r.ok) throw new Error(`GET ${next}: HTTP ${r.status} ${await r.text()}`);
    repositories.push(...(((await r.json()) as { repositories?: string[] }).repositories ?? []));
    next = /<([^>]+)>;\s*rel="next"/.exec(r.headers.get("link") ?? "")?.[1];
  }
  const out: Record<string, string[]> = {};
  for (const repo of repositories.filter((r) => r === root || r.startsWith(`${root}/`)).sort()) {
    const r = await fetch(`http://${host}/v2/${repo}/tags/list`);
    if (!r.ok) throw new Error(`GET tags of ${repo}: HTTP ${r.status}`);
    out[repo] = [...(((await r.json()) as { tags?: string[] | null }).tags ?? [])].sort();
  }
  return out;
}

export interface LocalRegistry {
  host: string;
  /** Where it keeps blobs and manifests. */
  storage: string;
  /** Every request it served, one line each (its access log). */
  log: () => string;
  /** SIGKILL: the registry disappears mid-request, as a crashed one does. */
  kill: () => void;
  stop: () => void;
  /** Serve the same storage again after a stop or kill. */
  restart: () => Promise<void>;
}
export type AuthRegistry = LocalRegistry;

/** Debian's registry on 127.0.0.1:<port>, with htpasswd (bcrypt) authentication when a user is given. */
export async function startRegistry(dir: string, port: number, auth?: { user: string; password: string }): Promise<LocalRegistry> {
  mkdirSync(join(dir, "data"), { recursive: true });
  const config = [
    "version: 0.1",
    "log: {level: info, formatter: text}",
    `storage: {filesystem: {rootdirectory: ${join(dir, "data")}}, delete: {enabled: true}}`,
    `http: {addr: "127.0.0.1:${port}"}`,
  ];
  if (auth) {
    const hash = spawnSync("htpasswd", ["-Bbn", auth.user, auth.password], { encoding: "utf8" });
    if (hash.status !== 0) throw new Error(`htpasswd failed (apache2-utils; scripts/world/docker.sh installs it): ${hash.stderr}`);
    writeFileSync(join(dir, "htpasswd"), hash.stdout);
    config.push(`auth: {htpasswd: {realm: pg-images-e2e, path: ${join(dir, "htpasswd")}}}`);
  }
  writeFileSync(join(dir, "config.yml"), config.join("\n") + "\n");
  const logFile = join(dir, "access.log");
  let child: ChildProcess | undefined;
  const serve = async () => {
    const out = openSync(logFile, "a");
    child = spawn("docker-registry", ["serve", join(dir, "config.yml")], { stdio: ["ignore", out, out] });
    closeSync(out);
    for (let i = 0; i < 50; i++) {
      const status = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.status, () => 0);
      if (status === (auth ? 401 : 200)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    child.kill();
    throw new Error(`the registry on 127.0.0.1:${port} did not answer on /v2/`);
  };
  await serve();
  const exited = () => new Promise<void>((r) => (child!.exitCode !== null || child!.signalCode !== null ? r() : child!.once("exit", () => r())));
  return {
    host: `127.0.0.1:${port}`,
    storage: join(dir, "data"),
    log: () => readFileSync(logFile, "utf8"),
    kill: () => void child?.kill("SIGKILL"),
    stop: () => void child?.kill(),
    restart: async () => {
      child?.kill("SIGKILL");
      await exited();
      await serve();
    },
  };
}

/** Debian's registry on 127.0.0.1:5001 with htpasswd (bcrypt) authentication. */
export function startAuthRegistry(dir: string, user: string, password: string, port = 5001): Promise<AuthRegistry> {
  return startRegistry(dir, port, { user, password });
}
