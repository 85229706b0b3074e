// A classic-BPF seccomp filter for the bwrap backend, assembled here so that it needs no
// libseccomp or compiler (Docker applies its own default profile instead). It is a deny list on
// top of the namespaces and rlimits: system calls a Python program never needs and that widen
// the kernel's attack surface fail with EPERM (or ENOSYS, so libc falls back); a foreign
// architecture or the x32 ABI kills the process.

const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
const SECCOMP_RET_KILL_PROCESS = 0x80000000;
const SECCOMP_RET_ERRNO = 0x00050000;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const EPERM = 1;
const ENOSYS = 38;

const BPF_LD_W_ABS = 0x20;
const BPF_JMP_JEQ_K = 0x15;
const BPF_JMP_JGE_K = 0x35;
const BPF_RET_K = 0x06;

/** x86_64 numbers of the denied system calls. */
export const DENIED_SYSCALLS_X86_64: Readonly<Record<string, number>> = {
  ptrace: 101,
  syslog: 103,
  personality: 135,
  pivot_root: 155,
  acct: 163,
  settimeofday: 164,
  mount: 165,
  umount2: 166,
  swapon: 167,
  swapoff: 168,
  reboot: 169,
  sethostname: 170,
  setdomainname: 171,
  iopl: 172,
  ioperm: 173,
  init_module: 175,
  delete_module: 176,
  quotactl: 179,
  lookup_dcookie: 212,
  clock_settime: 227,
  mbind: 237,
  kexec_load: 246,
  add_key: 248,
  request_key: 249,
  keyctl: 250,
  migrate_pages: 256,
  unshare: 272,
  move_pages: 279,
  perf_event_open: 298,
  fanotify_init: 300,
  name_to_handle_at: 303,
  open_by_handle_at: 304,
  setns: 308,
  process_vm_readv: 310,
  process_vm_writev: 311,
  kcmp: 312,
  finit_module: 313,
  bpf: 321,
  userfaultfd: 323,
  kexec_file_load: 320,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  pidfd_getfd: 438,
  mount_setattr: 442,
};

/** Answered with ENOSYS so that libc falls back to an older call the filter can inspect. */
const ENOSYS_SYSCALLS_X86_64: Readonly<Record<string, number>> = { clone3: 435 };

export function seccompSupported(): boolean {
  return process.arch === "x64" && process.platform === "linux";
}

/** The filter as `struct sock_filter[]` bytes, what `bwrap --seccomp FD` reads. */
export function buildSeccompFilter(): Buffer {
  const prog: [number, number, number, number][] = [];
  const denied = Object.values(DENIED_SYSCALLS_X86_64);
  const enosys = Object.values(ENOSYS_SYSCALLS_X86_64);
  prog.push([BPF_LD_W_ABS, 0, 0, 4]); // seccomp_data.arch
  prog.push([BPF_JMP_JEQ_K, 1, 0, AUDIT_ARCH_X86_64]);
  prog.push([BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS]);
  prog.push([BPF_LD_W_ABS, 0, 0, 0]); // seccomp_data.nr
  // Layout after the checks: [ALLOW, ERRNO(EPERM), ERRNO(ENOSYS)].
  const checks = 1 + denied.length + enosys.length;
  prog.push([BPF_JMP_JGE_K, checks, 0, X32_SYSCALL_BIT]); // x32 ABI -> EPERM
  denied.forEach((nr, i) => {
    const remaining = checks - 1 - i - 1; // checks after this one
    prog.push([BPF_JMP_JEQ_K, remaining + 1, 0, nr]);
  });
  enosys.forEach((nr, i) => {
    const remaining = enosys.length - i - 1;
    prog.push([BPF_JMP_JEQ_K, remaining + 2, 0, nr]);
  });
  prog.push([BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW]);
  prog.push([BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM]);
  prog.push([BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS]);
  for (const [, jt, jf] of prog) {
    if (jt > 255 || jf > 255) throw new Error("seccomp filter too long for 8-bit jumps");
  }
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach(([code, jt, jf, k], i) => {
    buf.writeUInt16LE(code, i * 8);
    buf.writeUInt8(jt, i * 8 + 2);
    buf.writeUInt8(jf, i * 8 + 3);
    buf.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return buf;
}
