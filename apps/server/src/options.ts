import { parseArgs } from "node:util";
import { z } from "zod";

export const serverHelp = `azr server — the AZR Platform control plane

Usage: npm start [-- OPTIONS]

Options:
  --host HOST     interface to listen on (default 127.0.0.1, env AZR_HOST)
  --port PORT     TCP port, 0 picks a free one (default 4300, env AZR_PORT)
  -h, --help      show this help

Data: PostgreSQL when DATABASE_URL is set, otherwise the embedded database in .azr/
(AZR_DATA_DIR moves it). Pending migrations are applied at start.`;

const optionsSchema = z.object({
  host: z.string().min(1, "--host must not be empty"),
  port: z.coerce
    .number({ error: "--port must be a number" })
    .int("--port must be an integer")
    .min(0, "--port must be between 0 and 65535")
    .max(65535, "--port must be between 0 and 65535"),
});
export type ServerOptions = z.infer<typeof optionsSchema>;

export type ParsedCommand = { help: true } | { help: false; options: ServerOptions };

/** Throws an Error whose message names the bad option. */
export function parseServerArgs(argv: string[], env: Record<string, string | undefined> = process.env): ParsedCommand {
  const { values } = parseArgs({
    args: argv,
    options: { host: { type: "string" }, port: { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
  });
  if (values.help) return { help: true };
  const parsed = optionsSchema.safeParse({
    host: values.host ?? env.AZR_HOST ?? "127.0.0.1",
    port: values.port ?? env.AZR_PORT ?? "4300",
  });
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join("; "));
  return { help: false, options: parsed.data };
}
