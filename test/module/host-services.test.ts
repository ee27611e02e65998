// Under `dagger call` the module reaches the caller's loopback only through the services passed
// to it: one per port, found by the port each exposes.
import type { Service } from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import { givenHostServices } from "../../src/chain/hostServices.js";
import { introspect } from "../helpers/introspect.js";

// Only what givenHostServices reads of a Service: the ports it exposes.
const exposing = (...ports: number[]) => ({ ports: async () => ports.map((p) => ({ port: async () => p })) }) as unknown as Service;

describe("host services", () => {
  it("finds each service by the port it exposes", async () => {
    const [a, b] = [exposing(5000), exposing(5081)];
    const lookup = await givenHostServices([a, b]);
    expect(lookup("127.0.0.1", 5000)).toBe(a);
    expect(lookup("127.0.0.1", 5081)).toBe(b);
  });

  it.each([
    [[], "127.0.0.1:5002 is on the caller's machine: pass it with --host-services tcp://127.0.0.1:5002"],
    [[exposing(5000)], "127.0.0.1:5002 is on the caller's machine: pass it with --host-services tcp://127.0.0.1:5002; given: 5000"],
  ])("names the flag when a port was not given (%#)", async (services, message) => {
    const lookup = await givenHostServices(services);
    expect(() => lookup("127.0.0.1", 5002)).toThrow(message);
  });

  it("is a module argument: a list of services, none by default", () => {
    expect(introspect().constructor.arguments.hostServices).toMatchObject({ type: { kind: "LIST_KIND", typeDef: { kind: "OBJECT_KIND", name: "Service" } }, defaultValue: [] });
  }, 60_000);
});
