// Services on the caller's machine: a registry or a package mirror on 127.0.0.1 that the engine's
// containers must reach. Under `dagger call` module code has no host API; the caller passes each
// one as a Service argument (`--host-services tcp://127.0.0.1:5000`). In client mode the runner
// opens them itself.
import { dag, type Service } from "@dagger.io/dagger";

/** The service for host:port on the caller's loopback; throws naming the flag when it was not given. */
export type HostService = (host: string, port: number) => Service;

/** Services given by the caller, found by the port they expose. */
export async function givenHostServices(services: readonly Service[]): Promise<HostService> {
  const byPort = new Map<number, Service>();
  for (const s of services) for (const p of await s.ports()) byPort.set(await p.port(), s);
  return (host, port) => {
    const s = byPort.get(port);
    if (!s) {
      const given = byPort.size ? `; given: ${[...byPort.keys()].sort((a, b) => a - b).join(", ")}` : "";
      throw new Error(`${host}:${port} is on the caller's machine: pass it with --host-services tcp://${host}:${port}${given}`);
    }
    return s;
  };
}

/** Client mode: the runner shares the caller's host with the engine, and opens tunnels itself. */
export const clientHostServices: HostService = (host, port) => dag.host().service([{ frontend: port, backend: port }], { host });
