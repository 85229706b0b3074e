import { formatDoctorReport, runDoctor } from "./doctor.ts";

const help = `azr — command line for the AZR Platform

Usage: azr <command> [options]

Commands:
  doctor        check this machine (Node, Debian's python3 and torch, bwrap, database,
                Docker, Chromium) and say exactly what is missing and how to install it
  help          show this help

Run from the repository with: npx azr <command>  (or npm run doctor)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "doctor": {
      if (rest.includes("--help") || rest.includes("-h")) {
        console.log("azr doctor: checks this machine; exits 1 when a part the embedded default needs is missing.");
        return 0;
      }
      const results = await runDoctor();
      console.log(formatDoctorReport(results));
      return results.some((r) => r.required && !r.ok) ? 1 : 0;
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(help);
      return 0;
    default:
      console.error(`error: unknown command "${command}"\n\n${help}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
