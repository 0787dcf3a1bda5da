// salvo-exec: the one extra exec in front of every runtime command. It makes the runtime die
// with the launcher (PR_SET_PDEATHSIG: Node cannot run code between fork and exec) and, for
// crun on hybrid cgroup hosts, enters the launcher's private mount namespace (setns), so one
// small exec replaces `setpriv --pdeathsig KILL nsenter --mount=…`.
//   usage: salvo-exec PARENT_PID MNTNS_PATH|- PROGRAM [ARGS…]
//          salvo-exec PARENT_PID MNTNS_PATH|- --mount-overlay OPTIONS TARGET   (an image's rootfs)
//          salvo-exec PARENT_PID MNTNS_PATH|- --detach TARGET                  (umount2 MNT_DETACH)
// The two mount verbs are the syscalls themselves, in that namespace: no mount(8) exec per container.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

static int fail(const char *what, const char *detail) {
  fprintf(stderr, "salvo-exec: %s %s: %s\n", what, detail, strerror(errno));
  return 127;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: salvo-exec PARENT_PID MNTNS_PATH|- PROGRAM [ARGS...]\n");
    return 127;
  }
  pid_t parent = (pid_t)strtol(argv[1], NULL, 10);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return fail("prctl", "PR_SET_PDEATHSIG");
  // The launcher may have died between our fork and the prctl: then nobody would signal us.
  if (getppid() != parent) return 127;
  if (strcmp(argv[2], "-") != 0) {
    int ns = open(argv[2], O_RDONLY | O_CLOEXEC);
    if (ns < 0) return fail("open", argv[2]);
    if (setns(ns, CLONE_NEWNS) != 0) return fail("setns", argv[2]);
    close(ns);
  }
  if (strcmp(argv[3], "--mount-overlay") == 0 && argc == 6) {
    if (mount("overlay", argv[5], "overlay", 0, argv[4]) != 0) return fail("mount", argv[5]);
    return 0;
  }
  if (strcmp(argv[3], "--detach") == 0 && argc == 5) {
    if (umount2(argv[4], MNT_DETACH | UMOUNT_NOFOLLOW) != 0) return fail("umount2", argv[4]);
    return 0;
  }
  execv(argv[3], argv + 3);
  return fail("exec", argv[3]);
}
