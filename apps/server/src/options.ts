import { parseArgs } from "node:util";
import { z } from "zod";

export const serverHelp = `azr server — the AZR Platform control plane

Usage: npm start [-- OPTIONS]

Options:
  --host HOST     interface to listen on (default 127.0.0.1, env AZR_HOST)
  --port PORT     TCP port, 0 picks a free one (default 4300, env AZR_PORT)
  --demo          launch the tiny-cpu demo run (default on the embedded database)
  --no-demo       do not launch it (default with DATABASE_URL)
  --demo-steps N  steps of the demo run (default 20)
  --web-port PORT the dashboard's port (default 4301, env AZR_WEB_PORT; 0 picks a free one)
  --no-web        do not serve the dashboard
  -h, --help      show this help

Data: PostgreSQL when DATABASE_URL is set, otherwise the embedded database in .azr/
(AZR_DATA_DIR moves it). Pending migrations are applied at start. Admin configuration
(pools, models, checkpoints): AZR_ADMIN_CONFIG, default .azr/admin.yaml, built-in defaults
when absent. A demo run left unfinished by a previous start continues instead of a new one.`;

const optionsSchema = z.object({
  host: z.string().min(1, "--host must not be empty"),
  port: z.coerce
    .number({ error: "--port must be a number" })
    .int("--port must be an integer")
    .min(0, "--port must be between 0 and 65535")
    .max(65535, "--port must be between 0 and 65535"),
  demo: z.boolean(),
  web: z.boolean(),
  webPort: z.coerce
    .number({ error: "--web-port must be a number" })
    .int("--web-port must be an integer")
    .min(0, "--web-port must be between 0 and 65535")
    .max(65535, "--web-port must be between 0 and 65535"),
  demoSteps: z.coerce
    .number({ error: "--demo-steps must be a number" })
    .int("--demo-steps must be an integer")
    .min(1, "--demo-steps must be between 1 and 100000")
    .max(100_000, "--demo-steps must be between 1 and 100000"),
});
export type ServerOptions = z.infer<typeof optionsSchema>;

export type ParsedCommand = { help: true } | { help: false; options: ServerOptions };

/** Throws an Error whose message names the bad option. */
export function parseServerArgs(argv: string[], env: Record<string, string | undefined> = process.env): ParsedCommand {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: "string" },
      port: { type: "string" },
      demo: { type: "boolean" },
      "no-demo": { type: "boolean" },
      "demo-steps": { type: "string" },
      "web-port": { type: "string" },
      "no-web": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) return { help: true };
  const parsed = optionsSchema.safeParse({
    host: values.host ?? env.AZR_HOST ?? "127.0.0.1",
    port: values.port ?? env.AZR_PORT ?? "4300",
    demo: values["no-demo"] ? false : values.demo ? true : !env.DATABASE_URL?.trim(),
    demoSteps: values["demo-steps"] ?? "20",
    web: !values["no-web"],
    webPort: values["web-port"] ?? env.AZR_WEB_PORT ?? "4301",
  });
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join("; "));
  return { help: false, options: parsed.data };
}
