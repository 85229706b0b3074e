import path from "node:path";
import { z } from "zod";

// The server's environment, validated once at start: a bad value stops the server with the
// variable's name instead of surfacing later as an odd failure. (DATABASE_URL is validated by
// @azr/db, AZR_HOST/AZR_PORT by the command-line options.)

const envSchema = z.object({
  AZR_DATA_DIR: z.string().trim().min(1, "must not be empty").default(".azr"),
  AZR_ADMIN_CONFIG: z.string().trim().min(1, "must not be empty").optional(),
  AZR_ADMIN_TOKEN: z
    .string()
    .min(32, "must be at least 32 characters (it is an admin credential)")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  AZR_SECURE_COOKIES: z.enum(["0", "1"], { error: 'must be "0" or "1"' }).default("0"),
  AZR_LOG_FORMAT: z.enum(["text", "json"], { error: 'must be "text" or "json"' }).default("text"),
  AZR_EXECUTOR: z.enum(["bwrap", "docker", "auto"], { error: 'must be "bwrap", "docker" or "auto"' }).default("bwrap"),
  AZR_INSTALLATION_ID: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,30}$/, "must be lowercase letters, digits and '-' (max 31)")
    .default("azr-default"),
});

export interface ServerEnv {
  dataDir: string;
  adminConfigFile: string;
  adminToken: string | undefined;
  secureCookies: boolean;
  logFormat: "text" | "json";
  executor: "bwrap" | "docker" | "auto";
  installationId: string;
}

export function parseServerEnv(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): ServerEnv {
  const r = envSchema.safeParse(env);
  if (!r.success) {
    throw new Error(`invalid environment: ${r.error.issues.map((i) => `${String(i.path[0])} ${i.message}`).join("; ")}`);
  }
  const e = r.data;
  const dataDir = path.resolve(cwd, e.AZR_DATA_DIR);
  return {
    dataDir,
    adminConfigFile: e.AZR_ADMIN_CONFIG ? path.resolve(cwd, e.AZR_ADMIN_CONFIG) : path.join(dataDir, "admin.yaml"),
    adminToken: e.AZR_ADMIN_TOKEN,
    secureCookies: e.AZR_SECURE_COOKIES === "1",
    logFormat: e.AZR_LOG_FORMAT,
    executor: e.AZR_EXECUTOR,
    installationId: e.AZR_INSTALLATION_ID,
  };
}
