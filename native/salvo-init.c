// salvo-init: pid 1 of a container's own pid namespace (what tini and `docker run --init` do).
// A namespace's init ignores every signal it has no handler for, so a command run as pid 1 would
// survive SIGTERM and `kill -9 $$`; run as pid 2 under this init it does not. The init forwards
// every signal it gets to the command, reaps every zombie, and exits with the command's exit code
// or 128 + the signal that killed it. An exit code alone cannot tell `exit 143` from SIGTERM, so
// with --status-dir the command's real wait status ("exit N" or "signal N") is also written there,
// atomically (a temporary file renamed), for the launcher to read (DESIGN §12).
// With --log-limit BYTES, a stdout or stderr that is a regular file (salvo's stdout.log and
// stderr.log) is fed through a pipe that this init copies into the file, punching out (fallocate
// PUNCH_HOLE) all but the last BYTES of it as it grows: a job that prints without end cannot fill
// the state directory, and the copy costs a job that prints little a read and a write. The
// launcher turns the file into the tail with a marker after the exit (DESIGN §4).
//   usage: salvo-init [--status-dir DIR] [--log-limit BYTES] -- PROGRAM [ARGS…]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/** One capped output: the pipe the command writes, the log file it goes to, how much is kept. */
struct capped {
  int pipe_in;      // read end, -1 when not capped or at EOF
  int file;         // the log file (fd 1 or 2 as the runtime gave it)
  long long end;    // the file's size: where the next write lands (O_APPEND)
  long long punched; // bytes before this offset are a hole
};

static long long log_limit = -1;

/** Interposes a pipe on fd `target` when it is a regular file; the command gets the write end. */
static void cap_stream(struct capped *c, int target, int child_end[2]) {
  struct stat st;
  c->pipe_in = -1;
  c->file = target;
  if (log_limit < 0 || fstat(target, &st) != 0 || !S_ISREG(st.st_mode) || pipe2(child_end, O_CLOEXEC) != 0) {
    child_end[0] = child_end[1] = -1;
    return;
  }
  c->pipe_in = child_end[0];
  fcntl(c->pipe_in, F_SETFL, O_NONBLOCK); // the read end only: the command's end stays blocking
  c->end = st.st_size;
  c->punched = 0;
}

/** Writes all of buf to the file, then punches out what lies before the last log_limit bytes. */
static void append_capped(struct capped *c, const char *buf, ssize_t len) {
  while (len > 0) {
    ssize_t n = write(c->file, buf, (size_t)len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return; // the disk is full or the file gone: drop it, the command goes on
    buf += n;
    len -= n;
    c->end += n;
  }
  long long keep_from = (c->end - log_limit) & ~4095LL; // whole pages: a partial one is not freed
  if (keep_from - c->punched >= 65536) {
    if (fallocate(c->file, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, c->punched, keep_from - c->punched) == 0) c->punched = keep_from;
  }
}

/** Copies what the pipe holds now; at EOF (every writer gone) the pipe is closed. */
static void drain(struct capped *c) {
  static char buf[65536];
  while (c->pipe_in >= 0) {
    ssize_t n = read(c->pipe_in, buf, sizeof buf);
    if (n > 0) {
      append_capped(c, buf, n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    close(c->pipe_in);
    c->pipe_in = -1;
  }
}

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
  // First of all: as pid 1 of a pid namespace, a signal from outside that finds neither a handler
  // nor a block is dropped by the kernel; blocked, it is queued for the wait loop (salvo's start
  // waits for this mask, DESIGN §12).
  sigset_t all, original;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &original);
  const char *status_dir = NULL;
  int first = 1;
  if (first + 1 < argc && strcmp(argv[first], "--status-dir") == 0) {
    status_dir = argv[first + 1];
    first += 2;
  }
  if (first + 1 < argc && strcmp(argv[first], "--log-limit") == 0) {
    log_limit = strtoll(argv[first + 1], NULL, 10);
    first += 2;
  }
  if (first < argc && strcmp(argv[first], "--") == 0) first++;
  if (first >= argc) {
    fprintf(stderr, "usage: salvo-init [--status-dir DIR] [--log-limit BYTES] -- PROGRAM [ARGS...]\n");
    return 127;
  }
  struct capped out, err;
  int out_pipe[2], err_pipe[2];
  cap_stream(&out, 1, out_pipe);
  cap_stream(&err, 2, err_pipe);
  // Outside a pid namespace of its own (init: true with the host's), orphans still come here.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  pid_t child = fork();
  if (child < 0) {
    fprintf(stderr, "salvo-init: fork: %s\n", strerror(errno));
    return 127;
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &original, NULL);
    if (out_pipe[1] >= 0) dup2(out_pipe[1], 1); // dup2 clears O_CLOEXEC on the copy
    if (err_pipe[1] >= 0) dup2(err_pipe[1], 2);
    execvp(argv[first], argv + first);
    fprintf(stderr, "salvo-init: exec %s: %s\n", argv[first], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  // Only the command writes the pipes: this init keeps no write end (its EOF is every writer gone).
  if (out_pipe[1] >= 0) close(out_pipe[1]);
  if (err_pipe[1] >= 0) close(err_pipe[1]);
  int signals = signalfd(-1, &all, SFD_CLOEXEC);
  if (signals < 0) {
    fprintf(stderr, "salvo-init: signalfd: %s\n", strerror(errno));
    kill(child, SIGKILL);
    return 127;
  }
  for (;;) {
    struct pollfd fds[3] = {{signals, POLLIN, 0}, {out.pipe_in, POLLIN, 0}, {err.pipe_in, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) continue; // EINTR
    if (fds[1].revents != 0) drain(&out);
    if (fds[2].revents != 0) drain(&err);
    if (fds[0].revents == 0) continue;
    struct signalfd_siginfo info;
    if (read(signals, &info, sizeof info) != sizeof info) continue;
    if (info.ssi_signo != SIGCHLD) {
      kill(child, (int)info.ssi_signo); // the command may have gone already (ESRCH): its exit follows
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != child) continue; // an orphan of the command, reaped
      // What the command wrote is copied; a process it left holding the pipe does not keep us.
      drain(&out);
      drain(&err);
      write_status(status_dir, status);
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    }
  }
}
