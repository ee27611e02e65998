// Why two images in a registry differ: index, per-platform config fields, and for each layer the
// files whose content, times, modes or owners differ. Reads blobs over the registry's HTTP API
// and unpacks layers here (gzip + tar), so it needs no tool of its own.
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";

const ACCEPT = ["application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json"].join(", ");

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}
interface Manifest {
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
  annotations?: Record<string, string>;
}

/** repository@digest on a plain-HTTP registry → its parts. */
function parse(ref: string): { host: string; repo: string; digest: string } {
  const m = /^([^/]+)\/(.+)@(sha256:[0-9a-f]{64})$/.exec(ref);
  if (!m) throw new Error(`not a digest reference: ${ref}`);
  return { host: m[1]!, repo: m[2]!, digest: m[3]! };
}

async function get(host: string, path: string, accept?: string): Promise<Buffer> {
  const r = await fetch(`http://${host}${path}`, accept ? { headers: { Accept: accept } } : {});
  if (!r.ok) throw new Error(`GET ${host}${path}: HTTP ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
}

const manifest = async (host: string, repo: string, digest: string) => JSON.parse((await get(host, `/v2/${repo}/manifests/${digest}`, ACCEPT)).toString()) as Manifest;
const blob = (host: string, repo: string, digest: string) => get(host, `/v2/${repo}/blobs/${digest}`);

/** Leaves of a JSON value as path → value, for a field-by-field comparison. */
function flatten(value: unknown, path = "", out: Map<string, string> = new Map()): Map<string, string> {
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`, out);
  } else out.set(path || ".", JSON.stringify(value));
  return out;
}

function jsonDiff(what: string, a: unknown, b: unknown): string[] {
  const fa = flatten(a);
  const fb = flatten(b);
  const keys = [...new Set([...fa.keys(), ...fb.keys()])].sort();
  return keys.filter((k) => fa.get(k) !== fb.get(k)).map((k) => `${what} ${k}: ${fa.get(k) ?? "(none)"} ≠ ${fb.get(k) ?? "(none)"}`);
}

/** One tar entry as compared: every header field that reaches the image, and a hash of its content. */
interface Entry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: string;
  atime?: string;
  ctime?: string;
  link: string;
  size: number;
  sha256: string;
}

/** ustar/PAX/GNU long-name tar → entries by path. */
export function tarEntries(tar: Buffer): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  const str = (b: Buffer) => b.toString("utf8").replace(/\0.*$/s, "");
  const num = (b: Buffer) => ((b[0]! & 0x80) !== 0 ? Number(b.readBigUInt64BE(b.length - 8)) : parseInt(str(b).trim() || "0", 8));
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    const type = String.fromCharCode(h[156]!) || "0";
    const size = num(h.subarray(124, 136));
    const body = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === "x") {
      pax = {};
      for (let s = body.toString("utf8"); s.length > 0; ) {
        const sp = s.indexOf(" ");
        const len = Number(s.slice(0, sp));
        const rec = s.slice(sp + 1, len - 1);
        const eq = rec.indexOf("=");
        pax[rec.slice(0, eq)] = rec.slice(eq + 1);
        s = s.slice(len);
      }
      continue;
    }
    if (type === "L") {
      longName = str(body);
      continue;
    }
    if (type === "g") continue;
    const prefix = str(h.subarray(345, 500));
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${str(h.subarray(0, 100))}` : str(h.subarray(0, 100)));
    entries.set(name.replace(/^\.?\//, ""), {
      type,
      mode: num(h.subarray(100, 108)),
      uid: Number(pax.uid ?? num(h.subarray(108, 116))),
      gid: Number(pax.gid ?? num(h.subarray(116, 124))),
      uname: pax.uname ?? str(h.subarray(265, 297)),
      gname: pax.gname ?? str(h.subarray(297, 329)),
      mtime: pax.mtime ?? String(num(h.subarray(136, 148))),
      ...(pax.atime ? { atime: pax.atime } : {}),
      ...(pax.ctime ? { ctime: pax.ctime } : {}),
      link: pax.linkpath ?? str(h.subarray(157, 257)),
      size,
      sha256: createHash("sha256").update(body).digest("hex"),
    });
    pax = {};
    longName = undefined;
  }
  return entries;
}

/**
 * Per file of two layers: what differs ("content" for the bytes, else the header fields). Files
 * whose content differs come first: they are what a reader looks for among many time changes.
 */
export function layerDiff(a: Map<string, Entry>, b: Map<string, Entry>): string[] {
  const content: string[] = [];
  const out: string[] = [];
  for (const name of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(name);
    const y = b.get(name);
    if (!x || !y) {
      out.push(`/${name}: only in the ${x ? "first" : "second"}`);
      continue;
    }
    const fields = (Object.keys({ ...x, ...y }) as (keyof Entry)[]).filter((k) => x[k] !== y[k]);
    if (fields.length === 0) continue;
    const line = `/${name}: ${fields.map((k) => (k === "sha256" ? "content" : `${k} ${String(x[k])} ≠ ${String(y[k])}`)).join(", ")}`;
    (fields.includes("sha256") ? content : out).push(line);
  }
  return [...content, ...out];
}

const platformOf = (d: Descriptor) => (d.platform ? [d.platform.os, d.platform.architecture, d.platform.variant].filter(Boolean).join("/") : "(no platform)");

/**
 * Every difference between two images (repository@digest, plain-HTTP registries), at most
 * `limit` lines per layer; empty when the digests are equal.
 */
export async function explainDifference(refA: string, refB: string, limit = 40): Promise<string[]> {
  const a = parse(refA);
  const b = parse(refB);
  if (a.digest === b.digest) return [];
  const [ma, mb] = await Promise.all([manifest(a.host, a.repo, a.digest), manifest(b.host, b.repo, b.digest)]);
  const out: string[] = [];
  const pairs: { label: string; a: Manifest; b: Manifest }[] = [];
  if (ma.manifests || mb.manifests) {
    out.push(...jsonDiff("index", { ...ma, manifests: undefined }, { ...mb, manifests: undefined }));
    const byPlatform = (m: Manifest) => new Map((m.manifests ?? []).map((d) => [platformOf(d), d]));
    const [pa, pb] = [byPlatform(ma), byPlatform(mb)];
    for (const p of [...new Set([...pa.keys(), ...pb.keys()])].sort()) {
      const [da, db] = [pa.get(p), pb.get(p)];
      if (!da || !db) out.push(`${p}: only in the ${da ? "first" : "second"}`);
      else if (da.digest !== db.digest) pairs.push({ label: p, a: await manifest(a.host, a.repo, da.digest), b: await manifest(b.host, b.repo, db.digest) });
    }
  } else pairs.push({ label: "image", a: ma, b: mb });
  for (const p of pairs) {
    out.push(`${p.label}: manifests differ`);
    if (p.a.config?.digest !== p.b.config?.digest) {
      const [ca, cb] = await Promise.all([blob(a.host, a.repo, p.a.config!.digest), blob(b.host, b.repo, p.b.config!.digest)]);
      out.push(...jsonDiff(`${p.label} config`, JSON.parse(ca.toString()), JSON.parse(cb.toString())));
    }
    out.push(...jsonDiff(`${p.label} manifest`, { ...p.a, layers: undefined, config: undefined }, { ...p.b, layers: undefined, config: undefined }));
    const layers = Math.max(p.a.layers?.length ?? 0, p.b.layers?.length ?? 0);
    for (let i = 0; i < layers; i++) {
      const [la, lb] = [p.a.layers?.[i], p.b.layers?.[i]];
      if (!la || !lb) {
        out.push(`${p.label} layer ${i}: only in the ${la ? "first" : "second"}`);
        continue;
      }
      if (la.digest === lb.digest) continue;
      const unpack = (x: Buffer, mediaType: string) => tarEntries(mediaType.endsWith("gzip") ? gunzipSync(x) : x);
      const [ta, tb] = await Promise.all([blob(a.host, a.repo, la.digest), blob(b.host, b.repo, lb.digest)]);
      const files = layerDiff(unpack(ta, la.mediaType), unpack(tb, lb.mediaType));
      const what = files.length === 0 ? "same files, other bytes (compression or tar order)" : `${files.length} files differ`;
      out.push(`${p.label} layer ${i} (${la.digest.slice(0, 19)} ≠ ${lb.digest.slice(0, 19)}): ${what}`);
      out.push(...files.slice(0, limit).map((f) => `  ${f}`), ...(files.length > limit ? [`  … and ${files.length - limit} more`] : []));
    }
  }
  return out;
}
