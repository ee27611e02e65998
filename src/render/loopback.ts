// Package sources on the caller's loopback (a mirror or apt-cacher-ng on 127.0.0.1, an SSH
// tunnel to an air-gapped mirror) as the engine's build containers reach them. The Docker
// renderer builds with the host's network and needs none of this; the Dagger engine's containers
// have their own loopback, so the host's port comes in through a service binding, and apt and
// curl are told to go there for that host while the URLs (and the files the image keeps) stay
// the ones the matrix names. Pure: returns data and file text.

/** One host:port on the caller's loopback and the alias its tunnel has in the build container. */
export interface LoopbackHost {
  host: string;
  port: number;
  alias: string;
}

export interface LoopbackAccess {
  hosts: LoopbackHost[];
  /** apt.conf: a per-host proxy, so apt sends that host's requests to the alias. */
  aptConf: string;
  /** .curlrc: curl connects to the alias for that host:port, keeping the URL. */
  curlrc: string;
}

const LOOPBACK_URL = /^http:\/\/(127\.\d+\.\d+\.\d+|localhost)(?::(\d+))?(?:\/|$)/;

/** The loopback hosts among the URLs, once each; undefined when there are none. */
export function loopbackAccess(urls: readonly string[]): LoopbackAccess | undefined {
  const hosts = new Map<string, LoopbackHost>();
  for (const url of urls) {
    const m = LOOPBACK_URL.exec(url);
    if (!m) continue;
    const port = Number(m[2] ?? 80);
    hosts.set(`${m[1]}:${port}`, { host: m[1]!, port, alias: `loopback-${port}` });
  }
  if (hosts.size === 0) return undefined;
  const all = [...hosts.values()];
  // apt's per-host proxy is keyed by host name only: the first port of a host wins.
  const byHost = new Map<string, LoopbackHost>();
  for (const h of all) if (!byHost.has(h.host)) byHost.set(h.host, h);
  return {
    hosts: all,
    aptConf: [...byHost.values()].map((h) => `Acquire::http::Proxy::${h.host} "http://${h.alias}:${h.port}";\n`).join(""),
    curlrc: all.map((h) => `connect-to = "${h.host}:${h.port}:${h.alias}:${h.port}"\n`).join(""),
  };
}

/** Where the access files are mounted for a step, and the variables that point apt and curl at them. */
export const LOOPBACK_DIR = "/run/pg-images-loopback";
export const LOOPBACK_ENV = { APT_CONFIG: `${LOOPBACK_DIR}/apt.conf`, CURL_HOME: LOOPBACK_DIR } as const;
