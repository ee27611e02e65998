// Lays out what `npm run local` builds in .pg-images/local: the end-to-end matrix filled in for
// this machine's world (base digests, tool images, the archive's current PostgreSQL) and the
// files and local repositories it names.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { makeContext, REPO, resolveMatrix, useWorldEngine } from "./world.js";

useWorldEngine();
const { text } = await resolveMatrix(readFileSync(join(REPO, "test/e2e/matrix.yaml"), "utf8"));
makeContext(join(REPO, ".pg-images/local"), text);
