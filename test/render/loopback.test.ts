import { describe, expect, it } from "vitest";
import { loopbackAccess } from "../../src/render/loopback.js";

describe("package sources on the caller's loopback", () => {
  it.each([
    ["PGDG itself: nothing to tunnel", ["https://apt.postgresql.org/pub/repos/apt", "https://www.postgresql.org/media/keys/ACCC4CF8.asc"], undefined],
    ["a corporate mirror on a LAN name: nothing to tunnel", ["http://apt.corp.example/pgdg"], undefined],
    [
      "mirror, archive and key on one loopback port: one tunnel",
      ["http://127.0.0.1:5081/apt", "http://127.0.0.1:5081/archive", "http://127.0.0.1:5081/keys/pgdg.asc"],
      {
        hosts: [{ host: "127.0.0.1", port: 5081, alias: "loopback-5081" }],
        aptConf: 'Acquire::http::Proxy::127.0.0.1 "http://loopback-5081:5081";\n',
        curlrc: 'connect-to = "127.0.0.1:5081:loopback-5081:5081"\n',
      },
    ],
    [
      "an apt-cacher-ng on localhost and a key on port 80",
      ["http://localhost:3142/apt.postgresql.org/pub/repos/apt", "http://127.0.0.1/key.asc"],
      {
        hosts: [
          { host: "localhost", port: 3142, alias: "loopback-3142" },
          { host: "127.0.0.1", port: 80, alias: "loopback-80" },
        ],
        aptConf: 'Acquire::http::Proxy::localhost "http://loopback-3142:3142";\nAcquire::http::Proxy::127.0.0.1 "http://loopback-80:80";\n',
        curlrc: 'connect-to = "localhost:3142:loopback-3142:3142"\nconnect-to = "127.0.0.1:80:loopback-80:80"\n',
      },
    ],
  ])("%s", (_, urls, expected) => {
    expect(loopbackAccess(urls)).toEqual(expected);
  });
});
