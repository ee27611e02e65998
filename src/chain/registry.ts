// Every registry operation goes through crane in a container, so the same code talks to a
// registry on the internet, one on this machine's loopback, or a throwaway one inside the engine.
import { CacheSharingMode, dag, type Container, type File, type Secret, type Service } from "@dagger.io/dagger";
import type { HostService } from "./hostServices.js";
import { isExecError } from "./target.js";

export interface RegistryAuth {
  username: string;
  password: Secret;
}

/** The throwaway registry's name inside the engine. */
export const EPHEMERAL_HOST = "pg-images-registry:5000";

export class RegistryClient {
  private readonly hosts = new Map<string, { alias: string; service: Service }>();
  private nonce = 0;

  /**
   * @param crane digest-pinned crane image with a shell (the :debug variant)
   * @param ephemeral the throwaway registry service, reachable as EPHEMERAL_HOST
   */
  constructor(
    private readonly crane: string,
    private readonly auth: RegistryAuth | undefined,
    private readonly ephemeral: Service | undefined,
    private readonly hostService: HostService,
  ) {}

  /** The manifest digest a reference points at, or undefined when there is none. */
  async digest(ref: string): Promise<string | undefined> {
    const out = await this.run([ref], `crane digest ${q(this.address(ref))} 2>/tmp/err || { ${MISSING}; }`);
    return out.trim() === "MISSING" ? undefined : out.trim();
  }

  /** The manifest or index a reference points at, as JSON text, or undefined when there is none. */
  async manifest(ref: string): Promise<string | undefined> {
    const out = await this.run([ref], `crane manifest ${q(this.address(ref))} 2>/tmp/err || { ${MISSING}; }`);
    return out.trim() === "MISSING" ? undefined : out;
  }

  /** The image config labels, or undefined when the reference does not exist. */
  async labels(ref: string): Promise<Record<string, string> | undefined> {
    const out = await this.run([ref], `crane config ${q(this.address(ref))} 2>/tmp/err || { ${MISSING}; }`);
    if (out.trim() === "MISSING") return undefined;
    return (JSON.parse(out) as { config?: { Labels?: Record<string, string> } }).config?.Labels ?? {};
  }

  /** Push an OCI image tarball as it is (its manifest digest unchanged); returns the digest. */
  async push(tarball: File, ref: string): Promise<string> {
    const script = `${pushLayout(this.address(ref))} >/tmp/out && cat /tmp/out`;
    const out = await this.run([ref], script, (c) => c.withMountedFile("/image.tar", tarball));
    return digestIn(out, ref);
  }

  /**
   * Write a unique tag unless it exists, from an OCI tarball or by copying a digest reference.
   * Returns the digest the tag already held (nothing written), or undefined when this call wrote
   * it. Check and write run in one exec holding an engine-wide lock, so two runs of the same
   * publish on one engine cannot both write a tag.
   */
  async writeUnique(ref: string, source: { tarball: File } | { copyFrom: string }): Promise<string | undefined> {
    const write =
      "tarball" in source
        ? `${pushLayout(this.address(ref))} >/dev/null`
        : `crane copy ${q(this.address(source.copyFrom))} ${q(this.address(ref))}`;
    const script = `if held=$(crane digest ${q(this.address(ref))} 2>/tmp/err); then echo "held $held"; exit 0; fi
if [ "$(${MISSING})" != MISSING ]; then exit 1; fi
${write}
echo wrote`;
    const refs = "tarball" in source ? [ref] : [source.copyFrom, ref];
    const out = await this.run(refs, script, (c) => {
      const locked = c.withMountedCache("/var/lock/pg-images", dag.cacheVolume("pg-images-unique-tags"), { sharing: CacheSharingMode.Locked });
      return "tarball" in source ? locked.withMountedFile("/image.tar", source.tarball) : locked;
    });
    const held = /^held (sha256:[0-9a-f]{64})$/m.exec(out)?.[1];
    if (held) return held;
    if (!/^wrote$/m.test(out)) throw new Error(`registry: writing ${ref} said: ${out.trim()}`);
    return undefined;
  }

  /** Copy a manifest by digest (no rebuild, no re-compression). */
  async copy(from: string, to: string): Promise<void> {
    await this.run([from, to], `crane copy ${q(this.address(from))} ${q(this.address(to))}`);
  }

  /** Point a tag of the same repository at a digest reference. */
  async tag(digestRef: string, tag: string): Promise<void> {
    await this.run([digestRef], `crane tag ${q(this.address(digestRef))} ${q(tag)}`);
  }

  async listTags(repository: string): Promise<string[]> {
    const out = await this.run([repository], `crane ls ${q(this.address(repository))} 2>/tmp/err || { ${MISSING}; }`);
    return out.trim() === "MISSING" || out.trim() === "" ? [] : out.trim().split("\n");
  }

  async delete(digestRef: string): Promise<void> {
    await this.run([digestRef], `crane delete ${q(this.address(digestRef))}`);
  }

  /** An image as an OCI tarball, to import into the engine for testing exactly that digest. */
  pull(digestRef: string): File {
    const script = `crane pull --format oci ${q(this.address(digestRef))} /tmp/layout && tar -C /tmp/layout -cf /tmp/image.tar .`;
    return this.exec(this.container([digestRef]), [digestRef], script).file("/tmp/image.tar");
  }

  /** A file from an image's filesystem (an SBOM sibling), or undefined when the image is missing. */
  async readFile(ref: string, path: string): Promise<string | undefined> {
    const script = `crane export ${q(this.address(ref))} /tmp/fs.tar 2>/tmp/err || { ${MISSING}; exit 0; }; tar -xOf /tmp/fs.tar ${q(path.replace(/^\//, ""))}`;
    const out = await this.run([ref], script);
    return out === "MISSING\n" ? undefined : out;
  }

  /**
   * A script that may call cosign as well as crane: the same registry access and logins (cosign
   * reads the credentials crane's login wrote). The cosign binary comes from `cosignImage`.
   */
  async withCosign(cosignImage: string, refs: string[], script: string, extra: (c: Container) => Container = (c) => c): Promise<string> {
    const cosign = dag.container().from(cosignImage).file(COSIGN_BINARY);
    return this.run(refs, script, (c) => extra(c.withFile("/usr/local/bin/cosign", cosign, { permissions: 0o755 })));
  }

  private async run(refs: string[], script: string, extra: (c: Container) => Container = (c) => c): Promise<string> {
    try {
      return await this.exec(extra(this.container(refs)), refs, script).stdout();
    } catch (e) {
      if (isExecError(e)) throw new Error(`registry: ${e.stderr.trim().split("\n").slice(-3).join(" ") || e.message}`);
      throw e;
    }
  }

  // Registry state changes under the engine's cache: every call is a new exec.
  private container(refs: string[]): Container {
    let c = dag.container().from(this.crane).withEnvVariable("PG_IMAGES_CALL", `${Date.now()}-${this.nonce++}`);
    for (const host of new Set(refs.map(hostOf))) {
      const access = this.access(host);
      if (access) c = c.withServiceBinding(access.alias, access.service);
    }
    if (this.auth) c = c.withEnvVariable("REGISTRY_USER", this.auth.username).withSecretVariable("REGISTRY_PASSWORD", this.auth.password);
    return c;
  }

  private exec(c: Container, refs: string[], script: string): Container {
    return c.withExec(["sh", "-c", this.prelude(refs) + script]);
  }

  // Log in to every registry the call touches but the throwaway one; the credentials live only
  // in this exec's filesystem, never in an image.
  private prelude(refs: string[]): string {
    const insecure = refs.some((r) => this.access(hostOf(r)));
    const hosts = [...new Set(refs.map((r) => hostOf(this.address(r))))].filter((h) => h !== EPHEMERAL_HOST);
    const login = this.auth ? hosts.map((h) => `printf '%s' "$REGISTRY_PASSWORD" | crane auth login ${q(h)} -u "$REGISTRY_USER" --password-stdin >/dev/null\n`).join("") : "";
    return `set -e\n${insecure ? INSECURE : ""}${login}`;
  }

  // A registry on the caller's loopback is reached through the engine's host tunnel; the
  // throwaway registry through its service binding. Both speak plain HTTP.
  private access(host: string): { alias: string; service: Service } | undefined {
    if (host === EPHEMERAL_HOST && this.ephemeral) return { alias: host.split(":")[0]!, service: this.ephemeral };
    const loopback = /^(127\.\d+\.\d+\.\d+|localhost):(\d+)$/.exec(host);
    if (!loopback) return undefined;
    let entry = this.hosts.get(host);
    if (!entry) {
      const port = Number(loopback[2]);
      entry = { alias: `host-registry-${port}`, service: this.hostService(loopback[1]!, port) };
      this.hosts.set(host, entry);
    }
    return entry;
  }

  /** How a reference is reached from inside the tool container (tunnels and service aliases). */
  address(ref: string): string {
    const host = hostOf(ref);
    const access = this.access(host);
    if (!access || host === EPHEMERAL_HOST) return ref;
    return `${access.alias}:${host.split(":")[1]}${ref.slice(host.length)}`;
  }
}

/** Where cosign's own image keeps the binary (gcr.io/projectsigstore/cosign is built with ko). */
export const COSIGN_BINARY = "/ko-app/cosign";

// Plain HTTP for the loopback and throwaway registries: crane's flag, and cosign's two (its
// subcommand comes first).
const INSECURE = `crane() { command crane --insecure "$@"; }
cosign() { sub=$1; shift; command cosign "$sub" --allow-insecure-registry --allow-http-registry "$@"; }
`;

const MISSING = `if grep -qE 'MANIFEST_UNKNOWN|NAME_UNKNOWN|NOT_FOUND|404' /tmp/err; then echo MISSING; else cat /tmp/err >&2; exit 1; fi`;

export function hostOf(ref: string): string {
  return ref.split("/")[0]!;
}

/** Shell: push the OCI tarball mounted at /image.tar as it is (its digest unchanged). */
const pushLayout = (address: string) => `mkdir /tmp/layout && tar -xf /image.tar -C /tmp/layout && crane push /tmp/layout ${q(address)}`;

/** A single-quoted shell word. */
export function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function digestIn(out: string, ref: string): string {
  const d = /sha256:[0-9a-f]{64}/.exec(out)?.[0];
  if (!d) throw new Error(`registry: pushing ${ref} printed no digest: ${out.trim()}`);
  return d;
}
