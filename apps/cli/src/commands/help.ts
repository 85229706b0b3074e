export const mainHelp = `azr — command line for the AZR Platform

Usage: azr <command> [options]

Server and machine:
  server [opts]          start the control plane (same options as npm start; azr server --help)
  doctor                 check this machine and say exactly what is missing
  login                  save the server URL and an API token (0600 file) for later commands
  logout                 forget the saved token

Runs:
  run <config.yaml|preset> [--set k=v]... [--pool P] [--watch]   launch a run
  ls                     list runs (filters: --status, --tag, --owner, --name)
  show <run>             one run: status, config, latest metrics, checkpoints
  logs [-f] <run>        a run's events and log lines; -f follows them live
  cancel <run>           stop a run
  resume <run>           continue a paused, failed or cancelled run from its last checkpoint
  fork <run> --from-step N [--set k=v]...   new run from a checkpoint of another
  compare <run> <run>... config differences and a metric table
  export <run> --format csv|jsonl            metric points (or --what rollouts) to stdout or --out

Evaluation:
  eval <run|model> --bench B1,B2 [--checkpoint STEP] [--wait]   evaluate a checkpoint or a catalogue model
  eval list|show|compare|cancel|benchmarks                      evaluations, their per-problem results, A vs B

Tokens:
  token create <name> --scope read|write|admin [--expires-days N] [--user U]
  token ls [--all]       token revoke <token-id>

Every command takes --help, --json (machine-readable output), --url and --token (else AZR_URL /
AZR_TOKEN, else the file azr login saved). Exit codes: 0 ok, 1 failed, 2 usage error,
3 not authorized (401/403/429), 4 not found.`;

export const commandHelp: Record<string, string> = {
  login: `azr login --token TOKEN [--url URL]

Checks the token against the server and saves both to $AZR_CONFIG_DIR/credentials.json
(default ~/.config/azr), readable only by you (mode 0600). URL defaults to http://127.0.0.1:4300.`,
  logout: `azr logout: removes the saved credentials file.`,
  run: `azr run <config.yaml|preset> [options]

Launches a run. The first argument is a run-config file (YAML or JSON; it may name a base
preset with a top-level "preset:" key) or the name of a preset (tiny-cpu, qwen2.5-7b-coder, ...).

Options:
  --set KEY=VALUE   override one config field by dotted path, repeatable
                    (e.g. --set azr.batchSize=8 --set optim.lr=1e-5; VALUE is JSON or text)
  --pool P          resource pool (default: the first configured pool)
  --name N          run name
  --tag T           tag, repeatable
  --watch           follow the run live until it ends (exit 0 if it completes, 1 otherwise)
  --json            print the created run as JSON`,
  ls: `azr ls [--status S[,S]] [--tag T] [--owner U] [--name SUBSTR] [--pool P] [--archived] [--limit N] [--json]

Lists runs, newest first.`,
  show: `azr show <run> [--json]: status, progress, config, latest metrics and checkpoints of a run.`,
  logs: `azr logs [-f] <run> [--json]

Prints the run's events (status changes, log lines). -f/--follow keeps streaming live; it
resumes where it left off if the connection drops, and stops when the run ends.`,
  cancel: `azr cancel <run> [--reason TEXT] [--json]: stops a run (it ends cancelled).`,
  resume: `azr resume <run> [--json]: continues a paused, failed or cancelled run from its last checkpoint.`,
  fork: `azr fork <run> (--from-step N | --checkpoint ID) [--set KEY=VALUE]... [--name N] [--pool P] [--json]

Starts a new run from a checkpoint of <run> (the newest at or before step N), with changed config.`,
  compare: `azr compare <run> <run>... [--keys K1,K2] [--json]

Shows the config keys that differ between the runs and a table of final / min / max values of
the metrics (default: every metric the runs share, up to 20).`,
  export: `azr export <run> --format csv|jsonl [--what metrics|rollouts] [--keys K1,K2] [--out FILE]

Writes the run's metric points at full resolution (csv: step,wall_time,key,value), or its
rollouts, to stdout or FILE.`,
  eval: `azr eval <run|model> --bench NAME[,NAME...] [options]
azr eval list [--run RUN] [--bench B] [--model M] [--status S[,S]] [--origin user|periodic] [--limit N]
azr eval show <eval> [--problems | --failed | --solved] [--limit N]
azr eval compare <eval-a> <eval-b> [--only a|b|both|neither] [--limit N]
azr eval cancel <eval> [--reason TEXT]
azr eval benchmarks

Evaluates a run's checkpoint (a run id: its newest checkpoint, or --checkpoint STEP) or a base
model from the catalogue (a model name) on benchmarks, as one job in the pool's queue. Decoding is
greedy with each benchmark's token budget, as in the paper; trained checkpoints get the azr
think/answer template, catalogue models the base-model (boxed / fenced answer) template.
Nothing is downloaded: a benchmark needs its data on the server (azr eval benchmarks shows which
have it; an admin sets benchmarks.<name>.source in the admin file). The fixture-* benchmarks use
the small files shipped with the platform.

Options (start):
  --bench B1,B2       benchmarks, repeatable or comma-separated (humaneval-plus, math500, ...)
  --checkpoint STEP   the run's checkpoint at this step (default: its newest)
  --template T        azr or base, instead of the default for the subject
  --max-tokens N      generation budget per answer
  --samples N         answers per problem (pass@k needs n >= k; greedy repeats one answer)
  --limit N           only the first N problems of each benchmark
  --set KEY=VALUE     any other benchmark override by dotted path, repeatable
                      (e.g. --set decoding.temperature=0.6 --set dateWindow.from=2024-08-01)
  --pool P            resource pool (default: the run's, else the first configured)
  --wait              follow the job until every evaluation ends, then print the scores
                      (exit 0 if all completed, 1 otherwise)
  --json              machine-readable output

show prints status, settings and scores, with --problems each problem's verdict and answer
(--failed / --solved: only those). compare lists which problems A solves and B does not (and the
reverse, both, neither) with both answers.`,
  token: `azr token create <name> --scope read|write|admin [--expires-days N] [--user U] [--json]
azr token ls [--all] [--revoked] [--json]
azr token revoke <token-id> [--json]

The secret of a new token is printed once. Scopes: read sees every run; write also creates runs
and changes your own; admin changes anything and manages everyone's tokens.`,
};
