export { runDoctor, formatDoctorReport, type CheckResult, type DoctorEnvironment } from "./doctor.ts";
