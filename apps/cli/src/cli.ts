import { createClient, describeError, type AzrClient } from "@azr/client";
import { UsageError } from "./args.ts";
import { cmdLogin, cmdLogout, cmdServer, cmdToken } from "./commands/admin-commands.ts";
import { cmdEval } from "./commands/eval-commands.ts";
import { commandHelp, mainHelp } from "./commands/help.ts";
import { cmdCancelResume, cmdCompare, cmdExport, cmdFork, cmdLogs, cmdLs, cmdRun, cmdShow } from "./commands/run-commands.ts";
import { CredentialsError, resolveCredentials } from "./credentials.ts";
import { formatDoctorReport, runDoctor } from "./doctor.ts";
import type { Io } from "./output.ts";

export const EXIT = { ok: 0, failed: 1, usage: 2, unauthorized: 3, notFound: 4 } as const;

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}

/** Runs one CLI invocation; returns the exit code. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    const topic = command === "help" ? rest[0] : undefined;
    io.out(topic && commandHelp[topic] ? commandHelp[topic] : mainHelp);
    return EXIT.ok;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    if (command === "server") return cmdServer(["--help"]);
    if (command === "doctor") {
      io.out("azr doctor: checks this machine; exits 1 when a part the embedded default needs is missing.");
      return EXIT.ok;
    }
    const help = commandHelp[command === "cancel" || command === "resume" ? command : command];
    if (help) {
      io.out(help);
      return EXIT.ok;
    }
  }
  let opened: AzrClient | undefined;
  const client = () => {
    if (!opened) {
      const creds = resolveCredentials(io.env, { url: flag(rest, "--url"), token: flag(rest, "--token") });
      opened = createClient(creds);
    }
    return opened;
  };
  try {
    switch (command) {
      case "server":
        return await cmdServer(rest);
      case "doctor": {
        const results = await runDoctor();
        io.out(formatDoctorReport(results));
        return results.some((r) => r.required && !r.ok) ? EXIT.failed : EXIT.ok;
      }
      case "login":
        return await cmdLogin((url, token) => createClient({ url, token }), rest, io);
      case "logout":
        return cmdLogout(rest, io);
      case "run":
        return await cmdRun(client, rest, io);
      case "ls":
        return await cmdLs(client, rest, io);
      case "show":
        return await cmdShow(client, rest, io);
      case "logs":
        return await cmdLogs(client, rest, io);
      case "cancel":
      case "resume":
        return await cmdCancelResume(client, rest, io, command);
      case "fork":
        return await cmdFork(client, rest, io);
      case "compare":
        return await cmdCompare(client, rest, io);
      case "export":
        return await cmdExport(client, rest, io);
      case "eval":
        return await cmdEval(client, rest, io);
      case "token":
        return await cmdToken(client, rest, io);
      default:
        throw new UsageError(`unknown command "${command}" (azr --help lists them)`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}\n\n${commandHelp[command] ?? "azr --help lists the commands."}`);
      return EXIT.usage;
    }
    if (e instanceof CredentialsError) {
      io.err(`error: ${e.message}`);
      return EXIT.unauthorized;
    }
    const d = describeError(e);
    const hint = /fetch failed|ECONNREFUSED/.test(d.message) ? " (is the server running? azr server starts it)" : "";
    io.err(`error: ${d.message}${hint}`);
    if (d.code === "UNAUTHORIZED" || d.code === "FORBIDDEN" || d.code === "TOO_MANY_REQUESTS") return EXIT.unauthorized;
    if (d.code === "NOT_FOUND") return EXIT.notFound;
    return EXIT.failed;
  } finally {
    await opened?.close();
  }
}
