// Writes the worker protocol's JSON Schema where the Python worker reads it:
//   npx tsx packages/protocol/src/export-worker-schema.ts
// (src/worker.test.ts fails while the shipped file differs from the zod schemas.)
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { workerJsonSchema } from "./worker.ts";

export const workerSchemaPath = fileURLToPath(new URL("../../../apps/worker/azr_worker/worker.schema.json", import.meta.url));

export function workerSchemaText(): string {
  return `${JSON.stringify(workerJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(workerSchemaPath, workerSchemaText());
  console.log(`wrote ${workerSchemaPath}`);
}
