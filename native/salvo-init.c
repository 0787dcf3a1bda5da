// salvo-init: pid 1 of a container's own pid namespace (what tini and `docker run --init` do).
// A namespace's init ignores every signal it has no handler for, so a command run as pid 1 would
// survive SIGTERM and `kill -9 $$`; run as pid 2 under this init it does not. The init forwards
// every signal it gets to the command, reaps every zombie, and exits with the command's exit code
// or 128 + the signal that killed it. An exit code alone cannot tell `exit 143` from SIGTERM, so
// with --status-dir the command's real wait status ("exit N" or "signal N") is also written there,
// atomically (a temporary file renamed), for the launcher to read (DESIGN §12).
//   usage: salvo-init [--status-dir DIR] -- PROGRAM [ARGS…]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/** DIR/status holds "exit N" or "signal N"; a failure to write it leaves the exit code alone. */
static void write_status(const char *dir, int status) {
  if (dir == NULL) return;
  char tmp[4096], final[4096], text[32];
  if (snprintf(tmp, sizeof tmp, "%s/.status.tmp", dir) >= (int)sizeof tmp) return;
  if (snprintf(final, sizeof final, "%s/status", dir) >= (int)sizeof final) return;
  int len = WIFSIGNALED(status) ? snprintf(text, sizeof text, "signal %d\n", WTERMSIG(status))
                                : snprintf(text, sizeof text, "exit %d\n", WEXITSTATUS(status));
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return;
  ssize_t written = write(fd, text, (size_t)len);
  close(fd);
  if (written == len) rename(tmp, final);
}

int main(int argc, char **argv) {
  const char *status_dir = NULL;
  int first = 1;
  if (first + 1 < argc && strcmp(argv[first], "--status-dir") == 0) {
    status_dir = argv[first + 1];
    first += 2;
  }
  if (first < argc && strcmp(argv[first], "--") == 0) first++;
  if (first >= argc) {
    fprintf(stderr, "usage: salvo-init [--status-dir DIR] -- PROGRAM [ARGS...]\n");
    return 127;
  }
  // Outside a pid namespace of its own (init: true with the host's), orphans still come here.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  sigset_t all, original;
  sigfillset(&all);
  // Blocked before the fork: a signal that comes before the wait loop is queued, not lost.
  sigprocmask(SIG_SETMASK, &all, &original);
  pid_t child = fork();
  if (child < 0) {
    fprintf(stderr, "salvo-init: fork: %s\n", strerror(errno));
    return 127;
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &original, NULL);
    execvp(argv[first], argv + first);
    fprintf(stderr, "salvo-init: exec %s: %s\n", argv[first], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0) continue; // EINTR
    if (sig != SIGCHLD) {
      kill(child, sig); // the command may have gone already (ESRCH): its exit follows
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != child) continue; // an orphan of the command, reaped
      write_status(status_dir, status);
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    }
  }
}
