import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

// `npm start` serves the dashboard beside the API: the production build of apps/web (made by
// scripts/start.sh) runs as a child process whose proxy points at this server.

const WEB_DIR = fileURLToPath(new URL("../../web", import.meta.url));

/** The production build exists (in AZR_WEB_DIST_DIR when set, as apps/web/next.config.ts reads it). */
export function dashboardBuilt(): boolean {
  return existsSync(`${WEB_DIR}/${process.env.AZR_WEB_DIST_DIR || ".next"}/BUILD_ID`);
}

export interface Dashboard {
  child: ChildProcess;
  /** Resolves with the dashboard's URL once it listens. */
  url: Promise<string>;
  stop(): Promise<void>;
}

export function startDashboard(apiUrl: string, host: string, port: number, log: (line: string) => void): Dashboard {
  const child = spawn(process.execPath, ["--import", "tsx", "server.ts", "--port", String(port), "--host", host], {
    cwd: WEB_DIR,
    env: { ...process.env, NODE_ENV: "production", AZR_API_URL: apiUrl, NEXT_TELEMETRY_DISABLED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = new Promise<string>((resolve, reject) => {
    const onLine = (d: Buffer) => {
      for (const line of d.toString().split("\n").filter(Boolean)) {
        const m = /AZR dashboard on (http:\/\/\S+)/.exec(line);
        if (m) resolve(m[1]!);
        else log(line);
      }
    };
    child.stdout!.on("data", onLine);
    child.stderr!.on("data", onLine);
    child.once("exit", (code) => reject(new Error(`the dashboard exited (${code}) before listening`)));
  });
  url.catch(() => {});
  return {
    child,
    url,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
