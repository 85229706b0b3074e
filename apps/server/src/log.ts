// Server logs: readable lines by default, one JSON object per line with AZR_LOG_FORMAT=json (for
// log shippers). Every line names its component.

export type Logger = (component: string, message: string, fields?: Record<string, unknown>) => void;

export function createLogger(format: "text" | "json", write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Logger {
  if (format === "json") {
    return (component, message, fields) => write(JSON.stringify({ time: new Date().toISOString(), component, message, ...fields }));
  }
  return (component, message) => write(component ? `[${component}] ${message}` : message);
}
