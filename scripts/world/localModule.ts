// The module as client mode sees it: the same PgImages class, with its fixtures read from this
// checkout (under `dagger call` they come from the module's own source).
import { dag, type Directory } from "@dagger.io/dagger";
import { clientHostServices, type HostService } from "../../src/chain/hostServices.js";
import { PgImages } from "../../src/index.js";
import { REPO } from "./world.js";

export class LocalPgImages extends PgImages {
  // The runner shares this machine with the engine: it opens tunnels to the loopback itself.
  protected override hostService(): Promise<HostService> {
    return Promise.resolve(clientHostServices);
  }

  protected override fixtures(): Directory {
    return dag.host().directory(REPO, { include: ["test/fixtures/**", "package.json"] });
  }
}

/** The pipeline's source directory from the host, without what the engine never needs. */
export function hostSource(path: string): Directory {
  return dag.host().directory(path, { exclude: ["node_modules", "dist", ".git", "out"] });
}
