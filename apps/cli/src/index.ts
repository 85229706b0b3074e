export { runDoctor, formatDoctorReport, type CheckResult, type DoctorEnvironment } from "./doctor.ts";
export { runCli, EXIT } from "./cli.ts";
