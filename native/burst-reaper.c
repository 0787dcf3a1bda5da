// The kernel's bound for bench/burst: a small C program that only reaps. As a child subreaper it
// starts COUNT containers whose process blocks reading FIFO (`RUNTIME --root ROOT run -d`, 8 at a
// time, untimed), opens a pidfd on each init (from its --pid-file), releases them all with one
// write to the fifo, and reaps each by its pidfd as they become readable (epoll, waitid P_PIDFD):
// the same work salvo's reaper does, minus recording. Then it deletes the containers (untimed).
//   usage: salvo-burst-reaper COUNT MNTNS|- RUNTIME ROOT BUNDLE FIFO SCRATCH_DIR ID_PREFIX
// Prints {"exits":N,"reaped":N,"releaseToAllReapedMs":T}.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

// Runs argv to completion (its own pid only: container inits are left to their pidfds).
static int run_wait(char **argv) {
  pid_t pid;
  if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0) return -1;
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(int argc, char **argv) {
  if (argc < 9) {
    fprintf(stderr, "usage: salvo-burst-reaper COUNT MNTNS|- RUNTIME ROOT BUNDLE FIFO SCRATCH_DIR ID_PREFIX\n");
    return 2;
  }
  int count = atoi(argv[1]);
  char *runtime = argv[3], *root = argv[4], *bundle = argv[5], *fifo = argv[6], *scratch = argv[7], *prefix = argv[8];
  if (strcmp(argv[2], "-") != 0) {
    int ns = open(argv[2], O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNS) != 0) {
      fprintf(stderr, "salvo-burst-reaper: setns %s: %s\n", argv[2], strerror(errno));
      return 2;
    }
    close(ns);
  }
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  int started = 0;
  char id[256], pid_file[4096];
  for (int i = 0; i < count; i++) {
    snprintf(id, sizeof id, "%s-%d", prefix, i);
    snprintf(pid_file, sizeof pid_file, "%s/%s.pid", scratch, id);
    char *run_argv[] = {runtime, "--root", root, "run", "-d", "--bundle", bundle, "--pid-file", pid_file, id, NULL};
    if (run_wait(run_argv) != 0) continue;
    FILE *f = fopen(pid_file, "r");
    int pid = 0;
    if (f == NULL || fscanf(f, "%d", &pid) != 1) {
      if (f != NULL) fclose(f);
      continue;
    }
    fclose(f);
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) continue;
    struct epoll_event event = {.events = EPOLLIN, .data.fd = pidfd};
    epoll_ctl(epfd, EPOLL_CTL_ADD, pidfd, &event);
    started++;
  }
  // The runtimes' own helpers (crun's detach fork) come back to us too: out of the way first.
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  char *lines = malloc((size_t)started + 1);
  memset(lines, '\n', (size_t)started);
  double released = now_ms();
  int go = open(fifo, O_WRONLY);
  if (write(go, lines, (size_t)started) < 0) perror("write");
  int reaped = 0;
  struct epoll_event events[1024];
  while (reaped < started) {
    int ready = epoll_wait(epfd, events, 1024, 10000);
    if (ready <= 0) break;
    for (int i = 0; i < ready; i++) {
      siginfo_t info;
      memset(&info, 0, sizeof info);
      if (syscall(SYS_waitid, P_PIDFD, events[i].data.fd, &info, WEXITED | WNOHANG | __WALL, NULL) == 0 && info.si_pid != 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, events[i].data.fd, NULL);
        close(events[i].data.fd);
        reaped++;
      }
    }
  }
  double all_reaped = now_ms() - released;
  // Closed only now: a process that reaches its open() after the release still finds a writer and its line.
  close(go);
  for (int i = 0; i < count; i++) {
    snprintf(id, sizeof id, "%s-%d", prefix, i);
    char *delete_argv[] = {runtime, "--root", root, "delete", "--force", id, NULL};
    run_wait(delete_argv);
  }
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  printf("{\"exits\":%d,\"reaped\":%d,\"releaseToAllReapedMs\":%.3f}\n", started, reaped, all_reaped);
  free(lines);
  return 0;
}
