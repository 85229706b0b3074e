export { startControlPlane, type ControlPlane } from "./server.ts";
export { parseServerArgs, serverHelp, type ServerOptions } from "./options.ts";
